import { type ApiClient } from '@app/client';

import { type TokenRequest } from './kube-types.js';

/** What a projected serviceAccountToken source asks for (a TokenRequest's spec). */
export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind: 'Pod'; apiVersion: 'v1'; name: string; uid: string };
}

/** A token and what the server granted: its expiry and the lifetime it was issued for. */
export interface IssuedToken {
  token: string;
  expirationTimestamp: string;
  /** The granted lifetime (the server may shorten the requested one). */
  expirationSeconds: number;
}

/** Asks the API server for a service account token (POST .../serviceaccounts/<sa>/token). */
export interface TokenSource {
  requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken>;
}

export const TOKEN_SOURCE = Symbol('TOKEN_SOURCE');

/** The TokenRequest subresource through ApiClient, as the kubelet's token manager calls it. */
export class ApiTokenSource implements TokenSource {
  constructor(private readonly client: ApiClient) {}

  async requestToken(
    namespace: string,
    serviceAccount: string,
    spec: TokenRequestSpec,
  ): Promise<IssuedToken> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
    const body: TokenRequest = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
    const reply = await this.client.call<TokenRequest>('POST', path, body);
    const token = reply.status?.token;
    const expirationTimestamp = reply.status?.expirationTimestamp;
    if (!token || !expirationTimestamp) throw new Error(`POST ${path}: the TokenRequest reply has no token`);
    return {
      token,
      expirationTimestamp: String(expirationTimestamp),
      expirationSeconds: reply.spec?.expirationSeconds ?? spec.expirationSeconds ?? 3600,
    };
  }
}

// pkg/kubelet/token/token_manager.go
const MAX_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_JITTER_MS = 10_000;

interface Entry {
  issued: IssuedToken;
  podUid?: string;
}

/**
 * The kubelet's token manager: tokens cached per (account, audiences, lifetime, bound pod),
 * fetched again once 80% of their lifetime (less a jitter of up to 10 s) has passed or they
 * are 24 h old; a failed refresh keeps serving the old token until it expires.
 */
export class ServiceAccountTokenManager {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly source: TokenSource,
    private readonly o: { now?: () => number; jitter?: () => number } = {},
  ) {}

  async token(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken> {
    const key = JSON.stringify([
      serviceAccount,
      namespace,
      spec.audiences ?? [],
      spec.expirationSeconds ?? null,
      spec.boundObjectRef?.uid ?? '',
    ]);
    const cached = this.cache.get(key);
    if (cached && !this.requiresRefresh(cached.issued)) return cached.issued;
    let issued: IssuedToken;
    try {
      issued = await this.source.requestToken(namespace, serviceAccount, spec);
    } catch (e) {
      const reason = (e as Error).message;
      if (!cached) throw new Error(`failed to fetch token: ${reason}`, { cause: e });
      if (this.expired(cached.issued))
        throw new Error(`token ${key} expired and refresh failed: ${reason}`, { cause: e });
      return cached.issued;
    }
    this.cache.set(key, { issued, podUid: spec.boundObjectRef?.uid });
    return issued;
  }

  /** DeleteServiceAccountToken: forgets the tokens bound to a pod that is gone. */
  forgetPod(podUid: string): void {
    for (const [key, entry] of this.cache) if (entry.podUid === podUid) this.cache.delete(key);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private expired(t: IssuedToken): boolean {
    return this.now() >= Date.parse(t.expirationTimestamp);
  }

  private requiresRefresh(t: IssuedToken): boolean {
    const now = this.now();
    const exp = Date.parse(t.expirationTimestamp);
    const ttlMs = t.expirationSeconds * 1000;
    const iat = exp - ttlMs;
    const jitter = Math.floor((this.o.jitter ?? Math.random)() * (MAX_JITTER_MS / 1000)) * 1000;
    if (now > iat + MAX_TTL_MS - jitter) return true;
    // Within 20% of the lifetime (plus the jitter) of the expiry.
    return now > exp - Math.trunc((t.expirationSeconds * 20) / 100) * 1000 - jitter;
  }
}
