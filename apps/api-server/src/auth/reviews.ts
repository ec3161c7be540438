import { type DiscoveredType, isObject, type StatusCause, StatusError } from '@app/api';
import { type Actor } from '@app/event-store';

import { type PolicyRule, type RequestAttributes } from '../authz/policy-rules.js';
import { type RbacAuthorizer } from '../authz/rbac-authorizer.js';

/**
 * The create-only review kinds, answered and never stored (upstream's registry/authorization
 * and registry/authentication REST storage): those a client asks about itself,
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i
 * --list`) and SelfSubjectReview (`kubectl auth whoami`); and those asked about another user
 * (by proxies and webhooks that authorize their own callers), SubjectAccessReview and, within
 * one namespace, LocalSubjectAccessReview.
 *
 * The answers are the RBAC authorizer's: the decision and its reason, and the rules bound to
 * the user in a namespace.
 */
export interface ReviewKind {
  /** The route (`:namespace` in a namespaced one's). */
  path: string;
  kind: string;
  group: string;
  resource: string;
  /** The status the server fills in; throws the Status of a review it refuses. */
  status(review: Review, asked: ReviewContext): unknown;
}

export interface ReviewContext {
  /** Who asks. */
  actor: Actor;
  authorizer: RbacAuthorizer;
  /** A namespaced review's namespace, from its path. */
  namespace?: string;
}

type Review = Record<string, unknown> & { spec?: unknown };

const AUTHORIZATION = 'authorization.k8s.io';
const AUTHENTICATION = 'authentication.k8s.io';

export const REVIEWS: ReviewKind[] = [
  {
    path: `/apis/${AUTHORIZATION}/v1/selfsubjectaccessreviews`,
    kind: 'SelfSubjectAccessReview',
    group: AUTHORIZATION,
    resource: 'selfsubjectaccessreviews',
    // ValidateSelfSubjectAccessReviewSpec: exactly one kind of attributes; then authorize.
    status(review, { actor, authorizer }) {
      return decide(authorizer, actor, accessSpec(this, review));
    },
  },
  {
    path: `/apis/${AUTHORIZATION}/v1/subjectaccessreviews`,
    kind: 'SubjectAccessReview',
    group: AUTHORIZATION,
    resource: 'subjectaccessreviews',
    // ValidateSubjectAccessReviewSpec: the attributes, and a user or a group to ask about.
    status(review, { authorizer }) {
      const spec = accessSpec(this, review);
      return decide(authorizer, subjectOf(this, spec), spec);
    },
  },
  {
    path: `/apis/${AUTHORIZATION}/v1/namespaces/:namespace/localsubjectaccessreviews`,
    kind: 'LocalSubjectAccessReview',
    group: AUTHORIZATION,
    resource: 'localsubjectaccessreviews',
    // ValidateLocalSubjectAccessReview: resources of the path's namespace only.
    status(review, { authorizer, namespace }) {
      const spec = accessSpec(this, review);
      const meta = isObject(review.metadata) ? review.metadata : {};
      if (meta.namespace !== undefined && meta.namespace !== namespace)
        throw StatusError.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      const target = targetOf(this);
      if (spec.nonResourceAttributes)
        throw StatusError.invalid(target, [
          invalid(
            'spec.nonResourceAttributes',
            spec.nonResourceAttributes,
            'disallowed on this kind of request',
          ),
        ]);
      if (text(spec.resourceAttributes?.namespace) !== namespace)
        throw StatusError.invalid(target, [
          invalid(
            'spec.resourceAttributes.namespace',
            text(spec.resourceAttributes?.namespace),
            'must match metadata.namespace',
          ),
        ]);
      return decide(authorizer, subjectOf(this, spec), spec);
    },
  },
  {
    path: `/apis/${AUTHORIZATION}/v1/selfsubjectrulesreviews`,
    kind: 'SelfSubjectRulesReview',
    group: AUTHORIZATION,
    resource: 'selfsubjectrulesreviews',
    // selfsubjectrulesreview REST: a namespace is required; unresolvable roles make it incomplete.
    status(review, { actor, authorizer }) {
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
    status: (_review, { actor }) => ({
      userInfo: {
        username: actor.user,
        ...(actor.uid ? { uid: actor.uid } : {}),
        groups: actor.groups,
        ...(actor.extra && Object.keys(actor.extra).length ? { extra: actor.extra } : {}),
      },
    }),
  },
];

/** The reviews as discovery lists them, so clients map their kinds (`kubectl create -f`). */
export const REVIEW_DISCOVERY: DiscoveredType[] = REVIEWS.map((r) => ({
  group: r.group,
  version: r.path.split('/')[3],
  kind: r.kind,
  plural: r.resource,
  singular: r.kind.toLowerCase(),
  namespaced: r.path.includes('/namespaces/:namespace/'),
  shortNames: [],
  categories: [],
  subresources: [],
  verbs: ['create'],
}));

/**
 * The answered review: the body as sent (an object whose kind and apiVersion, when given, are
 * the review's), with metadata as upstream echoes it and the status filled in.
 */
export function answerReview(r: ReviewKind, body: unknown, asked: ReviewContext): object {
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
  const status = r.status(review, asked);
  const metadata = {
    ...(isObject(review.metadata) ? review.metadata : {}),
    ...(asked.namespace ? { namespace: asked.namespace } : {}),
    creationTimestamp: null,
  };
  return { ...review, kind: r.kind, apiVersion, metadata, status };
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

interface AccessSpec {
  resourceAttributes?: Record<string, unknown>;
  nonResourceAttributes?: Record<string, unknown>;
  user?: unknown;
  groups?: unknown;
}

function targetOf(r: ReviewKind) {
  return { kind: r.kind, resource: r.resource, group: r.group, name: '' };
}

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    field,
  };
}

/** The spec of an access review, with exactly one kind of attributes (ValidateSelfSubjectAccessReviewSpec). */
function accessSpec(r: ReviewKind, review: Review): AccessSpec {
  const spec = isObject(review.spec) ? review.spec : {};
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (resource != null && nonResource != null)
    throw StatusError.invalid(targetOf(r), [
      invalid(
        'spec.nonResourceAttributes',
        nonResource,
        'cannot be specified in combination with resourceAttributes',
      ),
    ]);
  if (resource == null && nonResource == null)
    throw StatusError.invalid(targetOf(r), [
      invalid(
        'spec.resourceAttributes',
        'null',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    ]);
  return {
    ...spec,
    resourceAttributes: isObject(resource) ? resource : undefined,
    nonResourceAttributes: isObject(nonResource) ? nonResource : resource == null ? {} : undefined,
  };
}

/** The user a SubjectAccessReview asks about: a user or at least one group. */
function subjectOf(r: ReviewKind, spec: AccessSpec): Actor {
  const user = text(spec.user);
  const groups = Array.isArray(spec.groups)
    ? spec.groups.filter((g): g is string => typeof g === 'string')
    : [];
  if (!user && groups.length === 0)
    throw StatusError.invalid(targetOf(r), [
      invalid('spec.user', user, 'at least one of user or group must be specified'),
    ]);
  return { user, groups };
}

/** The decision, as the review's status. */
function decide(authorizer: RbacAuthorizer, who: Actor, spec: AccessSpec) {
  const decision = authorizer.authorize(
    attributesOf(who, spec.resourceAttributes, spec.nonResourceAttributes ?? {}),
  );
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

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
