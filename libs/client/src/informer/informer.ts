import { type NatsConnection } from '@nats-io/transport-node';

import { type EventStreamOptions, eventFilter, type HubWatch, isRedactedKind, WatchHub } from '@app/bus';
import { type StoredEvent, type StoredObject } from '@app/event-store';

import { type ApiClient, resourcePath } from '../api/api-client.js';
import { type CacheChange, type IndexFunction, ObjectCache } from '../cache/object-cache.js';
import { ExponentialBackoff } from '../queue/rate-limiter.js';

export interface InformerResource {
  group: string;
  version: string;
  plural: string;
}

export interface InformerOptions<T extends StoredObject> {
  api: ApiClient;
  nats: NatsConnection;
  stream?: EventStreamOptions;
  /**
   * The process's one reader of the event stream (a WatchHub without a log, see busFeed),
   * shared by its informers: each event crosses from NATS once, not once per informer. Without
   * it the informer reads the stream through a hub of its own.
   */
  feed?: WatchHub;
  resource: InformerResource;
  indexers?: Readonly<Record<string, IndexFunction<T>>>;
  /**
   * A narrower view, the same on both paths: the list's field selector and the bus subject
   * (a node agent lists `spec.nodeName=<node>` and follows `podsOnNode(node)`).
   */
  scope?: { fieldSelector: string; subject: string };
  /** Relist backoff after a failure: base and cap in ms. Default 100 ms → 10 s. */
  relistBackoffMs?: [number, number];
  /** Told of every failure (the informer goes on by listing again). */
  onTrouble?: (error: Error) => void;
}

export type ChangeHandler<T> = (change: CacheChange<T>) => void;

/**
 * The reader of the event stream a process's informers share: one consumer, its events fanned
 * out to every informer by subject. It has no log (the informers reach the store only through
 * the API), so what the stream cannot serve ends the informers' watches and they list again.
 */
export function busFeed(o: {
  nats: NatsConnection;
  stream?: EventStreamOptions;
  onTrouble?: (error: Error) => void;
}): WatchHub {
  return new WatchHub({ nats: o.nats, stream: o.stream, onTrouble: o.onTrouble });
}

/**
 * client-go's shared informer over Wake's bus: list the kind through the API, then follow the
 * event stream from the list's resourceVersion + 1, keeping a local cache (with indexes) and
 * telling handlers of every change in log order. The stream is read unfiltered, so a hole is
 * visible; an informer has no log of its own, so any hole, a lost stream or an unreachable
 * bus ends the watch and the informer lists again (reporting what changed meanwhile), with
 * backoff. Handlers run synchronously and must be quick: they queue keys, they do not work.
 */
export class Informer<T extends StoredObject = StoredObject> {
  readonly cache: ObjectCache<T>;
  private readonly handlers: ChangeHandler<T>[] = [];
  private readonly backoff: ExponentialBackoff<'relist'>;
  private watch?: HubWatch;
  private readonly feed: WatchHub;
  /** The feed is the informer's own (stopped with it), not the process's. */
  private readonly ownFeed: boolean;
  private running?: Promise<void>;
  private stopped = false;
  /** Ends the relist backoff early when the informer stops. */
  private wake?: () => void;
  private seq = 0;
  private lists = 0;
  private markSynced!: () => void;
  private readonly syncedOnce = new Promise<void>((resolve) => (this.markSynced = resolve));

  constructor(private readonly o: InformerOptions<T>) {
    if (isRedactedKind({ group: o.resource.group, resource: o.resource.plural }))
      throw new RangeError(
        `${o.resource.plural}: the bus carries them without their data; read them through the API instead`,
      );
    this.cache = new ObjectCache<T>(o.indexers);
    const [base, max] = o.relistBackoffMs ?? [100, 10_000];
    this.backoff = new ExponentialBackoff(base, max);
    this.ownFeed = !o.feed;
    this.feed = o.feed ?? busFeed({ nats: o.nats, stream: o.stream, onTrouble: o.onTrouble });
  }

  /** More indexes on the cache, filled from what it already holds (see ObjectCache.addIndexers). */
  addIndexers(indexers: Readonly<Record<string, IndexFunction<T>>>): this {
    this.cache.addIndexers(indexers);
    return this;
  }

  onChange(handler: ChangeHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  /** The last log seq this informer's cache reflects. */
  get seen(): number {
    return this.seq;
  }

  /** How many times it has listed (1 when it never lost the stream). */
  get listCount(): number {
    return this.lists;
  }

  /** Resolves once the first list is in the cache (client-go's HasSynced). */
  synced(): Promise<void> {
    return this.syncedOnce;
  }

  start(): this {
    this.running ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    this.wake?.();
    await this.running;
    if (this.ownFeed) await this.feed.stop();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.listAndWatch();
      } catch (e) {
        if (this.stopped) break;
        this.o.onTrouble?.(e as Error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.backoff.when('relist'));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private async listAndWatch(): Promise<void> {
    const { resource, scope } = this.o;
    const list = await this.o.api.list<T>(
      resourcePath(resource),
      scope ? { fieldSelector: scope.fieldSelector } : {},
    );
    this.lists++;
    this.seq = Number(list.resourceVersion);
    this.emit(this.cache.replace(list.items));
    this.markSynced();
    if (this.stopped) return;
    const watch = (this.watch = this.feed.watch({
      after: this.seq,
      filter: scope?.subject ?? eventFilter({ group: resource.group, resource: resource.plural }),
    }));
    try {
      let healthy = false;
      for await (const batch of watch.batches()) {
        if (this.stopped) return;
        if (!healthy) {
          // The stream served us: the next failure starts the backoff afresh.
          this.backoff.forget('relist');
          healthy = true;
        }
        for (const item of batch) {
          this.seq = item.kind === 'event' ? item.event.seq : item.seq;
          if (item.kind === 'event') this.apply(item.event);
        }
      }
    } finally {
      watch.stop();
    }
  }

  private apply(e: StoredEvent): void {
    // A DELETED event carries the object's last state; a payload expired by retention does not.
    const object = (e.object ?? {
      metadata: {
        name: e.name,
        namespace: e.namespace || undefined,
        uid: e.uid,
        resourceVersion: String(e.seq),
      },
    }) as T;
    const change =
      e.type === 'DELETED' ? this.cache.delete(object, e.object !== null) : this.cache.upsert(object);
    if (change) this.emit([change]);
  }

  private emit(changes: CacheChange<T>[]): void {
    for (const change of changes)
      for (const handler of this.handlers) {
        try {
          handler(change);
        } catch (e) {
          // One handler's bug must not cost the others their changes, nor the cache a relist.
          this.o.onTrouble?.(e as Error);
        }
      }
  }
}
