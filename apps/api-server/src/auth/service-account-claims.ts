import { randomUUID } from 'node:crypto';

import { type Actor } from '@app/event-store';

/** The in-cluster issuer kubeadm configures (`--service-account-issuer`). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** go-jose's jwt.DefaultLeeway: the slack for exp/nbf/iat and for deletions (claims.go). */
export const LEEWAY_SECONDS = 60;

/** The expirationSeconds the kubelet asks for projected tokens (token.WarnOnlyBoundTokenExpirationSeconds). */
export const WARN_ONLY_EXPIRATION_SECONDS = 60 * 60 + 7;

/** How long such a token really lives when extended (upstream's ExpirationExtensionSeconds: one year). */
export const EXTENDED_EXPIRATION_SECONDS = 24 * 365 * 60 * 60;

/** Upstream's extra keys on a service account's user info (k8s.io/apiserver/pkg/authentication/serviceaccount). */
export const EXTRA_KEYS = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
};

/** A name and uid, as the private claim records objects (claims.go `ref`). */
export interface ObjectRef {
  name: string;
  uid: string;
}

/** The `kubernetes.io` private claim (claims.go `kubernetes`). */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  warnafter?: number;
}

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': KubernetesClaim;
}

/** What a token is bound to: at most one of a pod (with its node), a secret, or a node. */
export type BoundObjects =
  | { pod?: ObjectRef; node?: ObjectRef; secret?: undefined }
  | { secret: ObjectRef; pod?: undefined; node?: undefined };

/** `system:serviceaccount:<ns>:<name>` (serviceaccount.MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The groups every service account is in (serviceaccount.MakeGroupNames), plus the authenticated group. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
}

/**
 * The claims of a new token, as upstream's pkg/serviceaccount/claims.go `Claims` builds them:
 * subject, audiences, iat = nbf = now, exp = now + expirationSeconds, a fresh jti, and the
 * private claim naming the service account and the object the token is bound to.
 */
export function tokenClaims(o: {
  issuer: string;
  namespace: string;
  serviceAccount: ObjectRef;
  bound?: BoundObjects;
  expirationSeconds: number;
  /** Non-zero: the token is "stale" after this many seconds, though valid until exp. */
  warnAfterSeconds?: number;
  audiences: string[];
  nowSeconds: number;
}): ServiceAccountClaims {
  const now = Math.floor(o.nowSeconds);
  const k8s: KubernetesClaim = {
    namespace: o.namespace,
    serviceaccount: o.serviceAccount,
  };
  const b = o.bound;
  if (b?.secret) k8s.secret = b.secret;
  else if (b?.pod) {
    k8s.pod = b.pod;
    if (b.node) k8s.node = b.node;
  } else if (b?.node) k8s.node = b.node;
  if (o.warnAfterSeconds) k8s.warnafter = now + o.warnAfterSeconds;
  return {
    iss: o.issuer,
    sub: serviceAccountUsername(o.namespace, o.serviceAccount.name),
    aud: o.audiences,
    exp: now + o.expirationSeconds,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    'kubernetes.io': k8s,
  };
}

/**
 * Why a token's time claims make it unusable now, or undefined: go-jose's
 * `Claims.ValidateWithLeeway` with the default leeway, and upstream's messages (claims.go Validate).
 */
export function timeProblem(claims: Record<string, unknown>, nowSeconds: number): string | undefined {
  const num = (k: string) => (typeof claims[k] === 'number' ? (claims[k] as number) : undefined);
  const nbf = num('nbf');
  const exp = num('exp');
  const iat = num('iat');
  if (nbf !== undefined && nowSeconds + LEEWAY_SECONDS < nbf) return 'service account token is not valid yet';
  if (exp !== undefined && nowSeconds - LEEWAY_SECONDS > exp) return 'service account token has expired';
  if (iat !== undefined && nowSeconds + LEEWAY_SECONDS < iat)
    return 'service account token is issued in the future';
  return undefined;
}

/** A JWT's `aud` as a list (RFC 7519 allows one string). */
export function audiencesOf(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/**
 * The audiences a token may be used for here: its own intersected with the API server's, as
 * jwt.go does; a token without audiences is a legacy one, for the API server's audiences.
 */
export function acceptedAudiences(tokenAudiences: string[], apiAudiences: string[]): string[] {
  const own = tokenAudiences.length ? tokenAudiences : apiAudiences;
  return own.filter((a) => apiAudiences.includes(a));
}

/** The private claim, when it has the shape upstream writes (namespace and service account name and uid). */
export function kubernetesClaimOf(claims: Record<string, unknown>): KubernetesClaim | undefined {
  const k = claims['kubernetes.io'];
  if (typeof k !== 'object' || k === null) return undefined;
  const c = k as Partial<KubernetesClaim>;
  if (typeof c.namespace !== 'string' || !isRef(c.serviceaccount)) return undefined;
  for (const r of [c.pod, c.secret, c.node]) if (r !== undefined && !isRef(r)) return undefined;
  return c as KubernetesClaim;
}

/**
 * The user a validated token proves (ServiceAccountInfo.UserInfo): the service account's name
 * and uid, its groups, and the pod (or node) it is bound to and the token's id as extras.
 * `credential` names the token by its id for the event log; never the token itself.
 */
export function serviceAccountActor(k: KubernetesClaim, jti: string | undefined): Actor {
  const extra: Record<string, string[]> = {};
  if (k.pod?.name && k.pod.uid) {
    extra[EXTRA_KEYS.podName] = [k.pod.name];
    extra[EXTRA_KEYS.podUid] = [k.pod.uid];
  }
  if (k.node?.name) {
    extra[EXTRA_KEYS.nodeName] = [k.node.name];
    if (k.node.uid) extra[EXTRA_KEYS.nodeUid] = [k.node.uid];
  }
  if (jti) extra[EXTRA_KEYS.credentialId] = [`JTI=${jti}`];
  return {
    user: serviceAccountUsername(k.namespace, k.serviceaccount.name),
    uid: k.serviceaccount.uid,
    groups: serviceAccountGroups(k.namespace),
    ...(jti ? { credential: `serviceaccount-jwt:JTI=${jti}` } : { credential: 'serviceaccount-jwt' }),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

function isRef(r: unknown): r is ObjectRef {
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof (r as ObjectRef).name === 'string' &&
    typeof (r as ObjectRef).uid === 'string'
  );
}
