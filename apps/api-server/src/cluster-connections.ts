import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';

import { Relay, WatchHub } from '@app/bus';
import { EventStore } from '@app/event-store';

import { type ApiServerConfig, WATCH_DISPATCH_INTERVAL_MS } from './config.js';

/**
 * The API server's connections: the event store (the only component that touches Postgres),
 * NATS, the watch hub every watch is served from, and, when asked, the relay that feeds it.
 * Closed in reverse: watches end first, then the bus, then the store.
 */
export class ClusterConnections {
  private constructor(
    readonly store: EventStore,
    readonly nats: NatsConnection,
    readonly hub: WatchHub,
    private readonly relay?: Relay,
  ) {}

  static async open(
    config: ApiServerConfig,
    log: (msg: string, fields?: Record<string, unknown>) => void,
  ): Promise<ClusterConnections> {
    const store = await EventStore.open({ url: config.databaseUrl });
    const nats = await natsConnect({
      servers: config.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    let relay: Relay | undefined;
    if (config.relay) {
      relay = new Relay({
        sql: store.sql,
        nats,
        stream: config.stream,
        log,
        onHalt: (e) => log('relay halted', { error: e.message }),
      });
      await relay.start();
    }
    const hub = new WatchHub({
      nats,
      log: store.events,
      stream: config.stream,
      bufferSize: config.watchCacheSize,
      maxQueue: config.watchMaxQueue,
      dispatchIntervalMs: config.watchDispatchIntervalMs ?? WATCH_DISPATCH_INTERVAL_MS,
    });
    await hub.start();
    return new ClusterConnections(store, nats, hub, relay);
  }

  /** Ends every watch (their streams close), then stops publishing. */
  async stopWatches(): Promise<void> {
    await this.hub.stop();
  }

  async close(): Promise<void> {
    await this.relay?.stop();
    await this.nats.close();
    await this.store.close();
  }
}
