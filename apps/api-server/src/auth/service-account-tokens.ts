import { type ResourceRegistry } from '@app/api';

import { type KindCache } from '../cache/kind-cache.js';
import { type ApiServerConfig } from '../config.js';
import { type ObjectService } from '../objects/object-service.js';
import { type SigningKey } from './jwt.js';
import { CachedObjectLookup } from './live-objects.js';
import { RequestAuthenticator } from './request-authenticator.js';
import { DEFAULT_ISSUER } from './service-account-claims.js';
import { ServiceAccountAuthenticator } from './service-account-authenticator.js';
import { type TokenFile } from './token-file.js';
import { TokenRequests } from './token-request.js';

/** A lookup slower than this refuses the request instead of holding it. */
const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Everything about service-account tokens the API server's routes need, from its config: the
 * TokenRequest handler that issues them and the authenticator that accepts them (and the
 * token file's tokens).
 */
export function serviceAccountTokens(o: {
  config: ApiServerConfig;
  key: SigningKey;
  tokenFile: TokenFile;
  objects: ObjectService;
  registry: ResourceRegistry;
  /** The service accounts the API server keeps in memory (read before the store). */
  serviceAccounts?: () => KindCache;
  onRefused?: (why: string) => void;
}): { authenticator: RequestAuthenticator; tokenRequests: TokenRequests } {
  const issuer = o.config.serviceAccountIssuer ?? DEFAULT_ISSUER;
  // Upstream: --api-audiences defaults to the first --service-account-issuer.
  const audiences = o.config.apiAudiences?.length ? o.config.apiAudiences : [issuer];
  const lookup = new CachedObjectLookup(o.objects, o.registry, {
    ttlMs: o.config.serviceAccountLookupCacheMs ?? 5_000,
    timeoutMs: LOOKUP_TIMEOUT_MS,
    caches: o.serviceAccounts ? { serviceaccounts: o.serviceAccounts } : {},
  });
  const serviceAccounts = new ServiceAccountAuthenticator({
    keys: [{ alg: o.key.alg, kid: o.key.kid, publicKey: o.key.publicKey }],
    issuers: [issuer],
    audiences,
    lookup,
  });
  return {
    authenticator: new RequestAuthenticator(o.tokenFile, serviceAccounts, o.onRefused),
    tokenRequests: new TokenRequests(o.objects, o.registry, {
      key: o.key,
      issuer,
      audiences,
      maxExpirationSeconds: o.config.serviceAccountMaxTokenExpirationSeconds,
      extendExpiration: o.config.serviceAccountExtendTokenExpiration,
    }),
  };
}
