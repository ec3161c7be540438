import { type ResourceType } from '@app/api';
import { type WatchHub } from '@app/bus';
import { ExponentialBackoff } from '@app/client';
import { type EventStore } from '@app/event-store';

import { KindCache } from './kind-cache.js';

export interface FollowedCachesOptions {
  /** Called with each failure: of a cache's watch, or of an attempt to rebuild one. */
  onError: (plural: string, e: unknown) => void;
  /** Called when a cache that had stopped following was replaced by one that follows. */
  onRebuilt?: (plural: string) => void;
  /** First wait before a rebuild, doubled after each failed attempt (client-go's reflector: 800 ms to 30 s). */
  rebuildBackoffMs?: { base: number; max: number };
}

/**
 * In-memory caches of a few kinds that the API server reads on every request (RBAC, admission,
 * token authentication), each kept following the log: one that stops (its watch failed or
 * ended) is rebuilt — listed again and following — with backoff, as an informer relists.
 * Readers ask for the current cache each time and must not trust one that is not `following`
 * (a rebuild is under way): it may miss what other API servers wrote since.
 */
export class FollowedCaches<P extends string> {
  private closed = false;
  private readonly backoff: ExponentialBackoff<P>;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly caches: Map<P, KindCache>,
    private readonly make: (plural: P) => Promise<KindCache>,
    private readonly o: FollowedCachesOptions,
  ) {
    const { base, max } = o.rebuildBackoffMs ?? { base: 800, max: 30_000 };
    this.backoff = new ExponentialBackoff(base, max);
    for (const plural of caches.keys()) this.follow(plural);
  }

  /** Lists and starts following each kind of `types` (by plural). */
  static async start<P extends string>(
    store: EventStore,
    hub: WatchHub,
    types: Record<P, ResourceType>,
    o: FollowedCachesOptions,
  ): Promise<FollowedCaches<P>> {
    const make = async (plural: P) => {
      const k = new KindCache(store, hub, types[plural], (e) => o.onError(plural, e));
      await k.start();
      return k;
    };
    const plurals = Object.keys(types) as P[];
    const started = await Promise.all(plurals.map(async (p) => [p, await make(p)] as const));
    return new FollowedCaches(new Map(started), make, o);
  }

  /** The current cache of `plural` (a rebuilt one replaces the one that stopped). */
  get(plural: P): KindCache {
    const cache = this.caches.get(plural);
    if (!cache) throw new Error(`no cache of ${plural} is kept`);
    return cache;
  }

  get all(): KindCache[] {
    return [...this.caches.values()];
  }

  /** For each kind, a getter of its current cache (for readers that keep one across a rebuild). */
  getters(): (() => KindCache)[] {
    return [...this.caches.keys()].map((plural) => () => this.get(plural));
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

  /** Rebuilds the cache of `plural` once it stops following, unless the caches were stopped. */
  private follow(plural: P): void {
    void this.get(plural).whenEnded.then(() => this.rebuild(plural));
  }

  private async rebuild(plural: P): Promise<void> {
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
