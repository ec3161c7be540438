import { matchesFields, matchesLabels, type ResourceType, storageOf } from '@app/api';
import { type WatchHub } from '@app/bus';
import { encodeContinue, type EventStore, type StoredObject } from '@app/event-store';
import { Counter, type Registry } from '@app/metrics';

import { type ListQuery } from '../objects/object-service.js';
import { type CachedObject, KindCache } from './kind-cache.js';

export interface ListCacheOptions {
  /**
   * The kinds whose whole lists are served from memory, as `group/resource` (`/pods`,
   * `apps/deployments`); default every kind that can be (see `ListCache.serves`). A kind is
   * only loaded when it is first listed (that list waits for it), so memory goes to the kinds
   * clients actually list.
   */
  kinds?: 'all' | string[];
  /**
   * How long a consistent list (resourceVersion unset) waits for the cache to reach the log
   * head before it is read from Postgres instead (upstream: 3 s, then the fallback to etcd).
   */
  waitMs?: number;
}

/** A list answered from memory: the matching objects as of `resourceVersion`. */
export interface CachedList {
  resourceVersion: number;
  items: CachedObject[];
  /** With a limit, when more matched: the token later pages are read from Postgres with, at `resourceVersion`. */
  continue?: string;
}

/**
 * Whole lists from memory, as kube-apiserver's watch cache serves them (cacher.go GetList):
 * a list with resourceVersion unset is a consistent read — the log head is read (one cheap
 * query, upstream's GetCurrentResourceVersionFromStorage) and the cache waited for until it
 * has reached it, falling back to Postgres after `waitMs` (upstream ConsistentListFromCache,
 * 1.31); resourceVersion="0" is served as the cache has it; a continue token or an exact
 * resourceVersion go to Postgres (upstream's shouldDelegateList), as does anything the cache
 * cannot answer exactly. The list's resourceVersion is the cache's position, which is at
 * least the head read at the start. With a limit, the first page is cut from the cache and
 * its continue token names the cache's position, so later pages, read from Postgres exactly
 * at it, continue the same snapshot (as upstream 1.33's ListFromCacheSnapshot pages do).
 */
export class ListCache {
  /** The caches this one loaded and owns. */
  private readonly caches = new Map<string, KindCache>();
  private readonly starting = new Map<string, Promise<void>>();
  /**
   * Kinds whose cache another owner keeps following and rebuilds (FollowedCaches: admission,
   * RBAC): the current one of each is served from, and never loaded a second time here.
   */
  private readonly shared = new Map<string, () => KindCache>();
  private readonly kinds?: Set<string>;
  private readonly waitMs: number;
  private stopped = false;
  /** Upstream's metric (k8s.io/apiserver/pkg/storage/cacher/metrics ConsistentReadTotal). */
  private readonly consistentReads: Counter<'resource' | 'success' | 'fallback'>;
  private readonly guesses: Counter<'resource' | 'result'>;

  constructor(
    private readonly store: EventStore,
    private readonly hub: WatchHub,
    registry: Registry,
    private readonly onError: (e: unknown) => void,
    options: ListCacheOptions = {},
    /** Caches another owner keeps (admission, RBAC), each as the getter of its current one. */
    shared: (() => KindCache)[] = [],
  ) {
    this.kinds = options.kinds === undefined || options.kinds === 'all' ? undefined : new Set(options.kinds);
    this.waitMs = options.waitMs ?? 3_000;
    for (const current of shared) {
      const t = current().type;
      if (this.serves(t)) this.shared.set(idOf(t), current);
    }
    this.consistentReads = new Counter({
      name: 'apiserver_watch_cache_consistent_read_total',
      help: 'Counter for consistent reads from cache.',
      labelNames: ['resource', 'success', 'fallback'],
      registers: [registry],
    });
    this.guesses = new Counter({
      name: 'apiserver_watch_cache_write_guesses_total',
      help: 'Updates and patches computed from the watch cache copy instead of a storage read (result="guessed"), and those of them whose copy was behind, computed again from storage (result="stale").',
      labelNames: ['resource', 'result'],
      registers: [registry],
    });
  }

  /**
   * Kinds whose stored objects are what is served (a kind stored as another, like
   * events.k8s.io Events, is converted per object: Postgres serves it), and not Secrets,
   * whose data never travels on the bus the cache is fed from.
   */
  serves(t: ResourceType): boolean {
    if (t.storage) return false;
    const s = storageOf(t);
    if (s.group === '' && s.resource === 'secrets') return false;
    return this.kinds === undefined || this.kinds.has(idOf(t));
  }

  /**
   * The list from memory, or undefined when it must be read from Postgres: the query is not
   * one the cache answers, or the kind's cache could not load or catch up within `waitMs`.
   */
  async list(
    t: ResourceType,
    namespace: string | undefined,
    query: ListQuery,
    rawResourceVersion: string | undefined,
  ): Promise<CachedList | undefined> {
    if (this.stopped || !this.serves(t)) return undefined;
    if (query.continue || query.resourceVersion !== undefined) return undefined;
    // One budget for loading the kind and catching up with the head (upstream's 3 s).
    const deadline = Date.now() + this.waitMs;
    const cache = await this.cacheOf(t, deadline);
    if (!cache) return undefined;
    // resourceVersion="0" (and not NotOlderThan a later one): any state the cache has is fine.
    const asIs = rawResourceVersion === '0' && query.notOlderThan === undefined;
    if (!asIs) {
      const head = (await this.store.head()).seq;
      // A resourceVersion the log has not reached: Postgres gives today's 504 for it.
      if (query.notOlderThan !== undefined && query.notOlderThan > head) return undefined;
      const fresh = await cache.sync(head, Math.max(0, deadline - Date.now()));
      this.consistentReads.inc({ resource: t.plural, success: String(fresh), fallback: String(!fresh) });
      if (!fresh) return undefined;
    }
    // One tick from here: the position and the objects are the same snapshot.
    const resourceVersion = cache.resourceVersion;
    const ns = t.namespaced && namespace ? namespace : undefined;
    const { labelSelector, fieldSelector, limit } = query;
    // Without selectors a page needs its own entries and one more (is there a next page?).
    const items =
      labelSelector || fieldSelector
        ? cache
            .entries(ns)
            .filter(
              (e) =>
                (!labelSelector || matchesLabels(labelSelector, e.object.metadata.labels)) &&
                (!fieldSelector || matchesFields(fieldSelector, e.object)),
            )
        : cache.page(ns, limit === undefined ? Infinity : limit + 1);
    if (limit === undefined || items.length <= limit) return { resourceVersion, items };
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return {
      resourceVersion,
      items: page,
      continue: encodeContinue({ rv: resourceVersion, namespace: last.namespace, name: last.name }),
    };
  }

  /**
   * A private copy of the object as its kind's cache holds it now, if that kind is served and
   * its cache loaded and following (one is never loaded for this): what a write may start from
   * instead of reading Postgres, as upstream's cacher hands its copy to GuaranteedUpdate. It may
   * be behind the log; the write is conditional on its resourceVersion.
   */
  guess(t: ResourceType, namespace: string, name: string): StoredObject | undefined {
    if (this.stopped || !this.serves(t)) return undefined;
    const cache = this.loaded(t);
    const entry = cache?.following ? cache.entry(namespace, name) : undefined;
    if (!entry) return undefined;
    this.guesses.inc({ resource: t.plural, result: 'guessed' });
    return JSON.parse(entry.json) as StoredObject;
  }

  absent(t: ResourceType, namespace: string, name: string): boolean {
    if (this.stopped || !this.serves(t)) return false;
    const cache = this.loaded(t);
    return cache?.following === true && cache.entry(namespace, name) === undefined;
  }

  stale(t: ResourceType): void {
    this.guesses.inc({ resource: t.plural, result: 'stale' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.starting.values());
    await Promise.allSettled([...this.caches.values()].map((c) => c.stop()));
  }

  /** The kind's cache if one is loaded: for a shared kind, its owner's current one. */
  private loaded(t: ResourceType): KindCache | undefined {
    const id = idOf(t);
    return this.shared.get(id)?.() ?? this.caches.get(id);
  }

  /**
   * The kind's cache, following the log; one not loaded yet is loaded now, and waited for until
   * `deadline` (its first list is itself a consistent read of Postgres: reading Postgres a
   * second time for the request meanwhile would double the work). Undefined: not in time.
   */
  private async cacheOf(t: ResourceType, deadline: number): Promise<KindCache | undefined> {
    const id = idOf(t);
    const shared = this.shared.get(id)?.();
    // Its owner rebuilds a shared cache that stopped: meanwhile the list is read from Postgres.
    if (shared) return shared.following ? shared : undefined;
    const cache = this.caches.get(id);
    if (cache?.following) return cache;
    if (cache) this.caches.delete(id);
    let loading = this.starting.get(id);
    if (!loading) {
      const fresh = new KindCache(this.store, this.hub, t, (e) => this.onError(e));
      loading = fresh
        .start()
        .then(
          () => {
            if (this.stopped) return fresh.stop();
            this.caches.set(id, fresh);
          },
          (e: unknown) => this.onError(e),
        )
        .finally(() => this.starting.delete(id));
      this.starting.set(id, loading);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      loading,
      new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    const loaded = this.caches.get(id);
    return loaded?.following ? loaded : undefined;
  }
}

function idOf(t: ResourceType): string {
  const s = storageOf(t);
  return `${s.group}/${s.resource}`;
}
