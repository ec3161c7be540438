import { type Actor } from '@app/event-store';

import { decodeJwt, type VerificationKey, verifyJwt } from './jwt.js';
import { type LiveKind, type LiveObjectGetter } from './live-objects.js';
import {
  acceptedAudiences,
  audiencesOf,
  kubernetesClaimOf,
  LEEWAY_SECONDS,
  serviceAccountActor,
  timeProblem,
} from './service-account-claims.js';

export interface ServiceAccountAuthenticatorOptions {
  /** Keys whose signatures are accepted (the signing key, and any kept for rotation). */
  keys: VerificationKey[];
  /** Issuers accepted (`--service-account-issuer`, every value). */
  issuers: string[];
  /** The API server's audiences (`--api-audiences`; upstream defaults them to the first issuer). */
  audiences: string[];
  lookup: LiveObjectGetter;
  /** Seconds since the epoch (tests move it). */
  now?: () => number;
}

/** Why a token was refused: for the server's log, never for the client (which sees 401). */
export type Refusal = { refused: string };

/**
 * Service-account JWTs, validated as upstream's pkg/serviceaccount/jwt.go
 * (jwtTokenAuthenticator.AuthenticateToken) and claims.go (validator.Validate): the issuer,
 * the signature by a known key, the audience, the time claims with a minute's leeway; then
 * the service account, and the pod, secret or node the token is bound to, must still exist
 * with the uid the token names and not have been deleted more than a minute ago — so deleting
 * a pod (or the account) revokes its tokens.
 */
export class ServiceAccountAuthenticator {
  private readonly now: () => number;

  constructor(private readonly o: ServiceAccountAuthenticatorOptions) {
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  /** Undefined when the token is not one of ours at all (another authenticator may know it). */
  async authenticate(token: string): Promise<Actor | Refusal | undefined> {
    const jwt = decodeJwt(token);
    // Upstream first peeks at the issuer, unverified, so foreign JWTs go to other authenticators.
    if (!jwt || typeof jwt.claims.iss !== 'string' || !this.o.issuers.includes(jwt.claims.iss))
      return undefined;
    const candidates = this.o.keys.filter((k) => jwt.header.kid === undefined || k.kid === jwt.header.kid);
    if (!candidates.some((k) => verifyJwt(jwt, k))) return { refused: 'no known key signed the token' };
    const claims = jwt.claims;
    const auds = acceptedAudiences(audiencesOf(claims), this.o.audiences);
    if (auds.length === 0)
      return { refused: `token audiences ${JSON.stringify(audiencesOf(claims))} are not the API server's` };
    const now = this.now();
    const late = timeProblem(claims, now);
    if (late) return { refused: late };
    const k = kubernetesClaimOf(claims);
    if (!k) return { refused: 'the token has no kubernetes.io claim' };

    // Things deleted before now - leeway no longer vouch for a token (claims.go).
    const deletedBefore = now - LEEWAY_SECONDS;
    const check = async (kind: LiveKind, ref: { name: string; uid: string }, namespace: string) => {
      const found = await this.o.lookup.get(kind, namespace, ref.name, ref.uid);
      if (!found) return `${kind} ${namespace}/${ref.name} not found`;
      if (found.deletionTimestamp && Date.parse(found.deletionTimestamp) / 1000 < deletedBefore)
        return `${kind} ${namespace}/${ref.name} has been deleted`;
      if (found.uid !== ref.uid) return `${kind} uid (${found.uid}) does not match claim (${ref.uid})`;
      return undefined;
    };
    const problems = await Promise.all([
      check('serviceaccounts', k.serviceaccount, k.namespace),
      k.secret ? check('secrets', k.secret, k.namespace) : undefined,
      k.pod ? check('pods', k.pod, k.namespace) : undefined,
      // A pod-bound token names its node only for information; a node-bound one is checked.
      k.node && !k.pod ? check('nodes', k.node, '') : undefined,
    ]);
    const problem = problems.find((p) => p !== undefined);
    if (problem) return { refused: problem };
    return serviceAccountActor(k, typeof claims.jti === 'string' ? claims.jti : undefined);
  }
}

export function isRefusal(r: Actor | Refusal | undefined): r is Refusal {
  return r !== undefined && 'refused' in r;
}
