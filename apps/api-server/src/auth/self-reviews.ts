import { isObject, StatusError } from '@app/api';
import { type Actor } from '@app/event-store';

import { type PolicyRule, type RequestAttributes } from '../authz/policy-rules.js';
import { type RbacAuthorizer } from '../authz/rbac-authorizer.js';

/**
 * The create-only review kinds a client asks about itself, answered and never stored
 * (upstream's registry/authorization and registry/authentication REST storage):
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i
 * --list`) and SelfSubjectReview (`kubectl auth whoami`).
 *
 * The answers are the RBAC authorizer's, for the user asking: the decision and its reason,
 * and the rules bound to the user in a namespace.
 */
export interface SelfReviewKind {
  path: string;
  kind: string;
  group: string;
  resource: string;
  /** The status the server fills in; throws the Status of a review it refuses. */
  status(review: Review, actor: Actor, authorizer: RbacAuthorizer): unknown;
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
    status(review, actor, authorizer) {
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
      const decision = authorizer.authorize(
        attributesOf(
          actor,
          isObject(resource) ? resource : undefined,
          isObject(nonResource) ? nonResource : {},
        ),
      );
      return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
    },
  },
  {
    path: `/apis/${AUTHORIZATION}/v1/selfsubjectrulesreviews`,
    kind: 'SelfSubjectRulesReview',
    group: AUTHORIZATION,
    resource: 'selfsubjectrulesreviews',
    // selfsubjectrulesreview REST: a namespace is required; unresolvable roles make it incomplete.
    status(review, actor, authorizer) {
      const spec = isObject(review.spec) ? review.spec : {};
      const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
      if (!namespace) throw StatusError.badRequest('no namespace on request');
      const { rules, errors } = authorizer.rulesFor(actor, namespace);
      return {
        resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map(resourceRule),
        nonResourceRules: rules
          .filter((r) => r.nonResourceURLs?.length)
          .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
        incomplete: errors.length > 0,
        ...(errors.length ? { evaluationError: errors.join(', ') } : {}),
      };
    },
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
export function answerSelfReview(
  r: SelfReviewKind,
  body: unknown,
  actor: Actor,
  authorizer: RbacAuthorizer,
): object {
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
  const status = r.status(review, actor, authorizer);
  const metadata = isObject(review.metadata) ? review.metadata : {};
  return { ...review, kind: r.kind, apiVersion, metadata: { ...metadata, creationTimestamp: null }, status };
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** The request a review asks about, made by the reviewer (ResourceAttributesFrom / NonResourceAttributesFrom). */
function attributesOf(
  who: Actor,
  resource: Record<string, unknown> | undefined,
  nonResource: Record<string, unknown>,
): RequestAttributes {
  const user = { user: who.user, groups: who.groups };
  if (!resource)
    return { ...user, resourceRequest: false, verb: text(nonResource.verb), path: text(nonResource.path) };
  return {
    ...user,
    resourceRequest: true,
    verb: text(resource.verb),
    apiGroup: text(resource.group),
    apiVersion: text(resource.version),
    resource: text(resource.resource),
    subresource: text(resource.subresource),
    namespace: text(resource.namespace),
    name: text(resource.name),
  };
}

function resourceRule(r: PolicyRule) {
  return {
    verbs: r.verbs,
    apiGroups: r.apiGroups ?? [],
    resources: r.resources ?? [],
    ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
  };
}
