import { createSecureContext, type SecureContext } from 'node:tls';

import { type StoredObject } from '@app/event-store';

import { type Ingress } from './ingress-types.js';
import { hostMatches } from './path-match.js';
import { oldestFirst } from './route-table.js';

/** A core/v1 Secret of type kubernetes.io/tls: PEM certificate chain and key, base64 in `data`. */
export type TlsSecret = StoredObject & { type?: string; data?: Record<string, string> };

/**
 * Which Secret serves which host (ingress-nginx's createServers, SSL part): each spec.tls entry
 * of a served Ingress names a Secret for its hosts — for the hosts of the Ingress's rules when
 * it lists none — in the Ingress's namespace. The oldest Ingress's claim on a host wins.
 * Keys are hosts (`*.foo.com` kept as a pattern), values `namespace/secretName`.
 */
export function tlsSecretsByHost(ingresses: readonly Ingress[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ing of [...ingresses].sort(oldestFirst)) {
    const ruleHosts = (ing.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h);
    for (const entry of (ing.spec?.tls ?? []) as { hosts?: string[]; secretName?: string }[]) {
      if (!entry.secretName) continue;
      const hosts = entry.hosts?.length ? entry.hosts : ruleHosts;
      for (const h of hosts) {
        const host = h.toLowerCase();
        if (!out.has(host)) out.set(host, `${ing.metadata.namespace}/${entry.secretName}`);
      }
    }
  }
  return out;
}

/**
 * The certificates the HTTPS listener serves, by SNI name: the served Ingresses' TLS Secrets,
 * read through the API (the bus carries Secrets without their data, so they cannot be watched
 * from it) whenever the served Ingresses' TLS claims change and every resync. A Secret that is
 * missing, of another type or unreadable leaves its hosts without a certificate, and says why.
 */
export class CertificateStore {
  private byHost = new Map<string, SecureContext>();
  /** The host → Secret claims of the latest load started. */
  private claims: ReadonlyMap<string, string> = new Map();
  private loading?: Promise<void>;
  private again = false;
  private resync?: NodeJS.Timeout;

  constructor(
    private readonly o: {
      /** Reads a Secret; undefined when it does not exist. */
      fetch: (namespace: string, name: string) => Promise<TlsSecret | undefined>;
      /** The hosts to serve and their Secrets (`namespace/name`), as tlsSecretsByHost gives them. */
      wanted: () => ReadonlyMap<string, string>;
      onTrouble: (e: Error) => void;
    },
  ) {}

  /** The certificate for `serverName`: its exact host's, else its wildcard's. */
  contextFor(serverName: string): SecureContext | undefined {
    const exact = this.byHost.get(serverName);
    if (exact) return exact;
    for (const [pattern, ctx] of this.byHost)
      if (pattern.startsWith('*.') && hostMatches(pattern, serverName)) return ctx;
    return undefined;
  }

  /** Reads the Secrets `wanted` names; a reload asked for while one runs follows it (once). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.refresh(this.o.wanted())
      .catch((e: Error) => this.o.onTrouble(e))
      .finally(() => {
        this.loading = undefined;
        if (this.again) {
          this.again = false;
          void this.reload();
        }
      });
    return this.loading;
  }

  /**
   * Reloads when `wanted` names other hosts or Secrets than the latest load did: an Ingress
   * change that moved no TLS claim (a status write, a new path) reads no Secret again.
   */
  reloadIfClaimsChanged(): Promise<void> {
    return sameClaims(this.o.wanted(), this.claims) ? (this.loading ?? Promise.resolve()) : this.reload();
  }

  /** Reloads every `ms` as well (Secret changes are not seen otherwise), until stop. */
  resyncEvery(ms: number): void {
    this.resync ??= setInterval(() => void this.reload(), ms);
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.again = false;
    await this.loading;
  }

  /** Loads the Secrets `secretsByHost` names and serves them from now on. */
  private async refresh(secretsByHost: ReadonlyMap<string, string>): Promise<void> {
    this.claims = secretsByHost;
    const contexts = new Map<string, SecureContext | undefined>();
    await Promise.all(
      [...new Set(secretsByHost.values())].map(async (key) => contexts.set(key, await this.load(key))),
    );
    const next = new Map<string, SecureContext>();
    for (const [host, key] of secretsByHost) {
      const ctx = contexts.get(key);
      if (ctx) next.set(host, ctx);
    }
    this.byHost = next;
  }

  private async load(key: string): Promise<SecureContext | undefined> {
    const [namespace, name] = key.split('/');
    try {
      const secret = await this.o.fetch(namespace, name);
      if (!secret) throw new Error('not found');
      const cert = secret.data?.['tls.crt'];
      const tlsKey = secret.data?.['tls.key'];
      if (!cert || !tlsKey) throw new Error(`has no tls.crt and tls.key (type ${secret.type ?? 'Opaque'})`);
      return createSecureContext({ cert: Buffer.from(cert, 'base64'), key: Buffer.from(tlsKey, 'base64') });
    } catch (e) {
      this.o.onTrouble(new Error(`TLS Secret ${key}: ${(e as Error).message}`, { cause: e }));
      return undefined;
    }
  }
}

function sameClaims(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [host, secret] of a) if (b.get(host) !== secret) return false;
  return true;
}
