import { type NatsConnection } from '@nats-io/transport-node';

import { type EventStreamOptions, type WatchHub } from '@app/bus';
import { type StoredObject } from '@app/event-store';

import { type ApiClient } from '../api/api-client.js';
import { type IndexFunction } from '../cache/object-cache.js';
import { busFeed, Informer, type InformerResource } from './informer.js';

export interface SharedInformersOptions {
  api: ApiClient;
  nats: NatsConnection;
  stream?: EventStreamOptions;
  /**
   * Told of every failure: `what` is `<plural> informer` (a list or watch failed; it lists
   * again) or `event feed` (the shared consumer stalled or was lost; it opens a new one).
   */
  onTrouble?: (what: string, error: Error) => void;
}

/**
 * client-go's SharedInformerFactory: one informer per resource for all the components of a
 * process, so a kind is listed and followed once however many components read it. Each asker
 * brings the indexes it needs; they are added to the one cache (see ObjectCache.addIndexers).
 * The informers read the event stream through one feed: a controller manager follows some 40
 * kinds, and one consumer per kind had NATS deliver every event 40 times to the process.
 */
export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  readonly feed: WatchHub;

  constructor(private readonly o: SharedInformersOptions) {
    this.feed = busFeed({ nats: o.nats, stream: o.stream, onTrouble: (e) => o.onTrouble?.('event feed', e) });
  }

  /** The client the informers list with, for the components' own reads and writes. */
  get api(): ApiClient {
    return this.o.api;
  }

  /** The process's informer of `resource`, with `indexers` added; made (not started) on first ask. */
  informer<T extends StoredObject>(
    resource: InformerResource,
    indexers: Readonly<Record<string, IndexFunction<T>>> = {},
  ): Informer<T> {
    const key = `${resource.group}/${resource.plural}`;
    // The map holds informers of several kinds; each asker names its own kind.
    let informer = this.informers.get(key) as unknown as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>({
        api: this.o.api,
        nats: this.o.nats,
        stream: this.o.stream,
        feed: this.feed,
        resource,
        onTrouble: (e) => this.o.onTrouble?.(`${resource.plural} informer`, e),
      });
      this.informers.set(key, informer as unknown as Informer);
    }
    return informer.addIndexers(indexers);
  }

  /** Starts every informer not yet running; resolves once all have listed. */
  async start(): Promise<void> {
    const all = [...this.informers.values()];
    for (const i of all) i.start();
    await Promise.all(all.map((i) => i.synced()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.feed.stop();
  }
}
