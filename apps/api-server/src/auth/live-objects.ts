import { type ResourceRegistry, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';

/** The kinds a service-account token names and the authenticator checks are still there. */
export type LiveKind = 'serviceaccounts' | 'pods' | 'secrets' | 'nodes';

/** What validating a token needs to know of an object. */
export interface LiveObject {
  uid: string;
  /** RFC 3339, set once the object is being deleted. */
  deletionTimestamp?: string;
}

/**
 * Looks objects up for token validation: undefined when absent; throws when the lookup fails.
 * `uid`, the one the token names, tells a cache that an answer naming another uid is stale.
 */
export interface LiveObjectGetter {
  get(kind: LiveKind, namespace: string, name: string, uid?: string): Promise<LiveObject | undefined>;
}

export interface CachedLookupOptions {
  /** How long a found object is reused ("not found" never is: the object may be created any moment). */
  ttlMs: number;
  /** A lookup slower than this fails (and the request is refused) rather than holding it. */
  timeoutMs: number;
  /** Most answers kept; the oldest go first. */
  maxEntries?: number;
  /**
   * Kinds the API server already keeps in memory: a hit there is current (a deletion shows at
   * once); a miss is read live, as the cache may not have caught up with a create yet.
   */
  caches?: Partial<Record<LiveKind, () => KindCache>>;
}

/**
 * Lookups of service accounts, pods, secrets and nodes for the token authenticator, straight
 * from the store, with found objects reused for a short while (upstream reads informer caches:
 * a deletion is seen after a delay there too) and concurrent lookups of one object shared. Only
 * what was found is kept, and only while it is the object the token names: a pod created (or
 * recreated under its name) a moment ago must not have its first token refused. Every
 * authenticated request may look up two objects, so they must neither pile up nor hang: one
 * slower than the bound fails.
 */
export class CachedObjectLookup implements LiveObjectGetter {
  private readonly answers = new Map<string, { value: LiveObject; until: number }>();
  private readonly pending = new Map<string, Promise<LiveObject | undefined>>();

  constructor(
    private readonly objects: ObjectService,
    private readonly registry: ResourceRegistry,
    private readonly options: CachedLookupOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async get(kind: LiveKind, namespace: string, name: string, uid?: string): Promise<LiveObject | undefined> {
    // A cache that stopped following may still hold an object deleted since: ask the store.
    const cache = this.options.caches?.[kind]?.();
    const inMemory = cache?.following ? cache.get(namespace, name) : undefined;
    if (inMemory) return liveObjectOf(inMemory);
    const key = `${kind}/${namespace}/${name}`;
    const cached = this.answers.get(key);
    // Another uid than the token's: the cached object may since have been replaced; ask again.
    if (cached && cached.until > this.now() && (uid === undefined || cached.value.uid === uid))
      return cached.value;
    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = this.lookup(kind, namespace, name).finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    const value = await withTimeout(lookup, this.options.timeoutMs, `looking up ${key}`);
    if (value) this.remember(key, value);
    else this.answers.delete(key);
    return value;
  }

  private async lookup(kind: LiveKind, namespace: string, name: string): Promise<LiveObject | undefined> {
    const t = this.registry.get('', 'v1', kind);
    let found: StoredObject;
    try {
      found = await this.objects.get(t, t.namespaced ? namespace : '', name);
    } catch (e) {
      if (e instanceof StatusError && e.reason === 'NotFound') return undefined;
      throw e;
    }
    return liveObjectOf(found);
  }

  private remember(key: string, value: LiveObject): void {
    this.answers.delete(key);
    this.answers.set(key, { value, until: this.now() + this.options.ttlMs });
    const max = this.options.maxEntries ?? 10_000;
    for (const oldest of this.answers.keys()) {
      if (this.answers.size <= max) break;
      this.answers.delete(oldest);
    }
  }
}

function liveObjectOf(o: StoredObject): LiveObject {
  const meta = o.metadata;
  return {
    uid: String(meta.uid),
    ...(meta.deletionTimestamp ? { deletionTimestamp: String(meta.deletionTimestamp) } : {}),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
