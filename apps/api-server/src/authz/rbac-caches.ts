import { type ResourceRegistry, StatusError } from '@app/api';
import { type WatchHub } from '@app/bus';
import { ExponentialBackoff } from '@app/client';
import { type EventStore } from '@app/event-store';

import { KindCache } from '../cache/kind-cache.js';
import { RBAC_GROUP } from './bootstrap-policy.js';
import { type RbacObjects } from './rbac-authorizer.js';

const RBAC_PLURALS = ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] as const;
type RbacPlural = (typeof RBAC_PLURALS)[number];

export interface RbacCachesOptions {
  /** Called with each failure: of a cache's watch, or of an attempt to rebuild one. */
  onError: (plural: string, e: unknown) => void;
  /** Called when a cache that had stopped following was replaced by one that follows. */
  onRebuilt?: (plural: string) => void;
  /** First wait before a rebuild, doubled after each failed attempt (client-go's reflector: 800 ms to 30 s). */
  rebuildBackoffMs?: { base: number; max: number };
}

/**
 * The four RBAC kinds in memory, fed by the log (upstream's authorizer reads informers too):
 * every request is authorized against them without a query. A cache that stopped following the
 * log is never read: a revoked binding must not go on granting, so RBAC decisions fail (500)
 * until the cache is rebuilt — listed again and following — which is tried with backoff, as an
 * informer relists; system:masters, which RBAC does not consult, is unaffected meanwhile.
 */
export class RbacCaches implements RbacObjects {
  private closed = false;
  private readonly backoff: ExponentialBackoff<RbacPlural>;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly caches: Map<RbacPlural, KindCache>,
    private readonly make: (plural: RbacPlural) => Promise<KindCache>,
    private readonly o: RbacCachesOptions,
  ) {
    const { base, max } = o.rebuildBackoffMs ?? { base: 800, max: 30_000 };
    this.backoff = new ExponentialBackoff(base, max);
    for (const plural of RBAC_PLURALS) this.follow(plural);
  }

  static async start(
    store: EventStore,
    hub: WatchHub,
    registry: ResourceRegistry,
    o: RbacCachesOptions,
  ): Promise<RbacCaches> {
    const make = async (plural: RbacPlural) => {
      const k = new KindCache(store, hub, registry.get(RBAC_GROUP, 'v1', plural), (e) =>
        o.onError(plural, e),
      );
      await k.start();
      return k;
    };
    const started = await Promise.all(RBAC_PLURALS.map(async (p) => [p, await make(p)] as const));
    return new RbacCaches(new Map(started), make, o);
  }

  /** The caches as they are now (a rebuilt one replaces the one that stopped). */
  get all(): KindCache[] {
    return RBAC_PLURALS.map((p) => this.cache(p));
  }

  /** Waits until every cache reflects the log up to `rv`; false if one took longer than `timeoutMs`. */
  async sync(rv: number, timeoutMs?: number): Promise<boolean> {
    return (await Promise.all(this.all.map((c) => c.sync(rv, timeoutMs)))).every(Boolean);
  }

  /** Stops the caches and any rebuild: nothing follows the log after this. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.all.map((c) => c.stop()));
  }

  clusterRoleBindings() {
    return live(this.cache('clusterrolebindings')).list();
  }

  roleBindings(namespace: string) {
    return live(this.cache('rolebindings')).list(namespace);
  }

  clusterRole(name: string) {
    return live(this.cache('clusterroles')).get('', name);
  }

  role(namespace: string, name: string) {
    return live(this.cache('roles')).get(namespace, name);
  }

  private cache(plural: RbacPlural): KindCache {
    return this.caches.get(plural) as KindCache;
  }

  /** Rebuilds the cache of `plural` once it stops following, unless the caches were stopped. */
  private follow(plural: RbacPlural): void {
    void this.cache(plural).whenEnded.then(() => this.rebuild(plural));
  }

  private async rebuild(plural: RbacPlural): Promise<void> {
    while (!this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, this.backoff.when(plural));
        timer.unref();
        this.timers.add(timer);
      });
      if (this.closed) return;
      try {
        const fresh = await this.make(plural);
        if (this.closed) return void (await fresh.stop());
        this.caches.set(plural, fresh);
        this.backoff.forget(plural);
        this.follow(plural);
        this.o.onRebuilt?.(plural);
        return;
      } catch (e) {
        this.o.onError(plural, e);
      }
    }
  }
}

function live(cache: KindCache): KindCache {
  if (!cache.following)
    throw StatusError.internal(
      `RBAC: the ${cache.type.plural} cache no longer follows the event log; authorization is refused until it is rebuilt`,
    );
  return cache;
}
