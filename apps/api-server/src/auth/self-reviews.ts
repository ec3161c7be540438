import { isObject, StatusError } from '@app/api';
import { type Actor } from '@app/event-store';

/**
 * The create-only review kinds a client asks about itself, answered and never stored
 * (upstream's registry/authorization and registry/authentication REST storage):
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i
 * --list`) and SelfSubjectReview (`kubectl auth whoami`).
 *
 * Wake authorizes every authenticated request (kube-apiserver's `--authorization-mode
 * AlwaysAllow`), so the answers are those of upstream's AlwaysAllow authorizer: allowed, with
 * no reason; every verb on every resource and every non-resource URL.
 */
export const SELF_REVIEW_PATHS = {
  access: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  rules: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
  self: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
} as const;

const AUTHORIZATION = 'authorization.k8s.io';

type Review = Record<string, unknown> & { spec?: unknown };

/** The body as a review of `kind`: an object whose apiVersion and kind, when given, are these. */
function reviewOf(body: unknown, kind: string, apiVersion: string, resource: string): Review {
  if (!isObject(body)) throw StatusError.badRequest(`the body of a ${kind} must be a JSON object`);
  const given = body as Review;
  for (const [field, want] of [
    ['kind', kind],
    ['apiVersion', apiVersion],
  ] as const) {
    const value = given[field];
    if (value !== undefined && value !== want)
      throw StatusError.badRequest(`${resource}: ${field} ${JSON.stringify(value)} is not ${want}`);
  }
  return given;
}

/** What the server adds to every answered review: its kind, and metadata as upstream echoes it. */
function answered(review: Review, kind: string, apiVersion: string, status: unknown) {
  const metadata = isObject(review.metadata) ? review.metadata : {};
  return { ...review, kind, apiVersion, metadata: { ...metadata, creationTimestamp: null }, status };
}

/** SelfSubjectAccessReview: may I do this? (ValidateSelfSubjectAccessReviewSpec, then authorize.) */
export function selfSubjectAccessReview(body: unknown): object {
  const kind = 'SelfSubjectAccessReview';
  const apiVersion = `${AUTHORIZATION}/v1`;
  const review = reviewOf(body, kind, apiVersion, 'selfsubjectaccessreviews');
  const spec = isObject(review.spec) ? review.spec : {};
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const target = { kind, resource: 'selfsubjectaccessreviews', group: AUTHORIZATION, name: '' };
  if (resource != null && nonResource != null)
    throw StatusError.invalid(target, [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(nonResource)}: cannot be specified in combination with resourceAttributes`,
        field: 'spec.nonResourceAttributes',
      },
    ]);
  if (resource == null && nonResource == null)
    throw StatusError.invalid(target, [
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
        field: 'spec.resourceAttributes',
      },
    ]);
  return answered(review, kind, apiVersion, { allowed: true });
}

/** SelfSubjectRulesReview: what may I do in this namespace? */
export function selfSubjectRulesReview(body: unknown): object {
  const kind = 'SelfSubjectRulesReview';
  const apiVersion = `${AUTHORIZATION}/v1`;
  const review = reviewOf(body, kind, apiVersion, 'selfsubjectrulesreviews');
  return answered(review, kind, apiVersion, {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  });
}

/** SelfSubjectReview: who am I, as the server authenticated this request? */
export function selfSubjectReview(body: unknown, actor: Actor): object {
  const kind = 'SelfSubjectReview';
  const apiVersion = 'authentication.k8s.io/v1';
  const review = reviewOf(body ?? {}, kind, apiVersion, 'selfsubjectreviews');
  return answered(review, kind, apiVersion, {
    userInfo: {
      username: actor.user,
      ...(actor.uid ? { uid: actor.uid } : {}),
      groups: actor.groups,
      ...(actor.extra && Object.keys(actor.extra).length ? { extra: actor.extra } : {}),
    },
  });
}
