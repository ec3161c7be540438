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
export interface SelfReviewKind {
  path: string;
  kind: string;
  group: string;
  resource: string;
  /** The status the server fills in; throws the Status of a review it refuses. */
  status(review: Review, actor: Actor): unknown;
}

type Review = Record<string, unknown> & { spec?: unknown };

const AUTHORIZATION = 'authorization.k8s.io';
const AUTHENTICATION = 'authentication.k8s.io';

export const SELF_REVIEWS: SelfReviewKind[] = [
  {
    path: `/apis/${AUTHORIZATION}/v1/selfsubjectaccessreviews`,
    kind: 'SelfSubjectAccessReview',
    group: AUTHORIZATION,
    resource: 'selfsubjectaccessreviews',
    // ValidateSelfSubjectAccessReviewSpec: exactly one kind of attributes; then authorize.
    status(review) {
      const spec = isObject(review.spec) ? review.spec : {};
      const resource = spec.resourceAttributes;
      const nonResource = spec.nonResourceAttributes;
      const target = { kind: this.kind, resource: this.resource, group: this.group, name: '' };
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
      return { allowed: true };
    },
  },
  {
    path: `/apis/${AUTHORIZATION}/v1/selfsubjectrulesreviews`,
    kind: 'SelfSubjectRulesReview',
    group: AUTHORIZATION,
    resource: 'selfsubjectrulesreviews',
    status: () => ({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    }),
  },
  {
    path: `/apis/${AUTHENTICATION}/v1/selfsubjectreviews`,
    kind: 'SelfSubjectReview',
    group: AUTHENTICATION,
    resource: 'selfsubjectreviews',
    status: (_review, actor) => ({
      userInfo: {
        username: actor.user,
        ...(actor.uid ? { uid: actor.uid } : {}),
        groups: actor.groups,
        ...(actor.extra && Object.keys(actor.extra).length ? { extra: actor.extra } : {}),
      },
    }),
  },
];

/**
 * The answered review: the body as sent (an object whose kind and apiVersion, when given, are
 * the review's), with metadata as upstream echoes it and the status filled in.
 */
export function answerSelfReview(r: SelfReviewKind, body: unknown, actor: Actor): object {
  const apiVersion = `${r.group}/v1`;
  if (!isObject(body)) throw StatusError.badRequest(`the body of a ${r.kind} must be a JSON object`);
  const review: Review = body;
  for (const [field, want] of [
    ['kind', r.kind],
    ['apiVersion', apiVersion],
  ] as const) {
    const value = review[field];
    if (value !== undefined && value !== want)
      throw StatusError.badRequest(`${r.resource}: ${field} ${JSON.stringify(value)} is not ${want}`);
  }
  const status = r.status(review, actor);
  const metadata = isObject(review.metadata) ? review.metadata : {};
  return { ...review, kind: r.kind, apiVersion, metadata: { ...metadata, creationTimestamp: null }, status };
}
