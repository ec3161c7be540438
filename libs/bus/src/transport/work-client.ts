import { EventEmitter } from 'node:events';

import {
  jetstreamManager,
  type JetStreamClient,
  type JetStreamPublishOptions,
  type PubAck,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { type Observable } from 'rxjs';

import { followConnection } from './connection-status.js';
import {
  assertWorkSubject,
  ensureWorkStream,
  resolveWorkOptions,
  type WorkStreamOptions,
} from './jetstream-work.js';

export interface JetStreamWorkClientOptions {
  /** nats-server URL(s). */
  servers: string | string[];
  /** Connection name, as nats-server reports it. */
  name?: string;
  /** Any other connection option; reconnection is unlimited unless set here. */
  connection?: Omit<NodeConnectionOptions, 'servers' | 'name'>;
  /** The work stream, as the server sees it (name and subject root must match). */
  stream?: Partial<WorkStreamOptions>;
  /**
   * Create the work stream on connect when it is missing (default true), so that work
   * published before any worker ever started is kept. An existing stream is never changed.
   */
  ensureStream?: boolean;
  /**
   * The msgID of a message sent with `emit()`: JetStream stores one message per msgID within
   * the stream's duplicate window, so a retried emit is not done twice. Default: none.
   */
  msgId?: (subject: string, data: unknown) => string | undefined;
  /** How long to wait for JetStream to confirm that it stored a message. Default 5 s. */
  publishTimeoutMs?: number;
}

export interface EnqueueOptions {
  /** Deduplication id (see {@link JetStreamWorkClientOptions.msgId}). */
  msgId?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export type JetStreamWorkClientStatus = 'connected' | 'disconnected' | 'reconnecting' | 'closed';

export type JetStreamWorkClientEvents = {
  disconnect: (server: string) => void;
  reconnect: (server: string) => void;
};

const encoder = new TextEncoder();

/**
 * Puts work on JetStream work subjects. `emit(subject, data)` publishes `data` as JSON and
 * completes once JetStream acknowledged storing it (the value is the PubAck), so work whose
 * emit completed is durable even if no worker is running. Request/response (`send`) is not
 * supported: work has no reply.
 *
 * `emit()` is hot (it publishes without a subscriber) but only a subscriber learns whether it
 * was stored: `await lastValueFrom(client.emit(...))`, or use `enqueue()`.
 */
export class JetStreamWorkClient extends ClientProxy<JetStreamWorkClientEvents, JetStreamWorkClientStatus> {
  private readonly logger = new Logger(JetStreamWorkClient.name);
  private readonly stream: WorkStreamOptions;
  private readonly emitter = new EventEmitter();
  private connection?: Promise<NatsConnection>;
  private nc?: NatsConnection;
  private js?: JetStreamClient;

  constructor(private readonly options: JetStreamWorkClientOptions) {
    super();
    this.stream = resolveWorkOptions({ stream: options.stream }).stream;
  }

  connect(): Promise<NatsConnection> {
    this.connection ??= this.open().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.nc = undefined;
    this.js = undefined;
    const nc = await connection?.catch(() => undefined);
    if (!nc) return;
    try {
      // Lets outstanding publishes and their acks complete.
      await nc.drain();
    } catch (error) {
      this.logger.error({ msg: 'draining the NATS connection failed', error: String(error) });
      await nc.close().catch(() => undefined);
    }
    this._status$.next('closed');
    this.emitter.removeAllListeners();
  }

  override on<
    EventKey extends keyof JetStreamWorkClientEvents = keyof JetStreamWorkClientEvents,
    EventCallback extends JetStreamWorkClientEvents[EventKey] = JetStreamWorkClientEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    this.emitter.on(event, callback);
  }

  /** The NATS connection. */
  unwrap<T>(): T {
    if (!this.nc) throw new Error('Not initialized: call connect() first.');
    // Nest's contract: the caller names the type of the underlying client.
    return this.nc as unknown as T;
  }

  /** Publishes one piece of work; resolves once JetStream stored it (or recognised a duplicate msgID). */
  async enqueue(subject: string, data: unknown, options: EnqueueOptions = {}): Promise<PubAck> {
    assertWorkSubject(subject, this.stream);
    const payload = JSON.stringify(data);
    if (payload === undefined) throw new Error(`work for ${subject} has no JSON form`);
    await this.connect();
    const js = this.js;
    if (!js) throw new Error('JetStreamWorkClient was closed');
    const publish: Partial<JetStreamPublishOptions> = {
      timeout: options.timeoutMs ?? this.options.publishTimeoutMs ?? 5_000,
      expect: { streamName: this.stream.name },
    };
    if (options.msgId) publish.msgID = options.msgId;
    if (options.headers && Object.keys(options.headers).length) {
      const h = headers();
      for (const [key, value] of Object.entries(options.headers)) h.set(key, value);
      publish.headers = h;
    }
    return js.publish(subject, encoder.encode(payload), publish);
  }

  /** Work has no reply: use `emit()`. */
  override send<TResult = never, TInput = unknown>(pattern: unknown, _data: TInput): Observable<TResult> {
    throw new Error(
      `JetStreamWorkClient does not support request/response (send ${JSON.stringify(pattern)}): work subjects ` +
        'carry events only; use emit()',
    );
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({
      err: new Error(
        `JetStreamWorkClient does not support request/response (${JSON.stringify(packet.pattern)}); use emit()`,
      ),
      isDisposed: true,
    });
    return () => undefined;
  }

  /** The PubAck is what `emit()` yields. */
  protected async dispatchEvent<T = PubAck>(packet: ReadPacket): Promise<T> {
    const subject = this.normalizePattern(packet.pattern);
    const ack = await this.enqueue(subject, packet.data, {
      msgId: this.options.msgId?.(subject, packet.data),
      headers: packet.metadata,
    });
    // ClientProxy types every event result as T; for this transport it is the PubAck.
    return ack as unknown as T;
  }

  private async open(): Promise<NatsConnection> {
    const { servers, name, connection } = this.options;
    const nc = await connect({ maxReconnectAttempts: -1, ...connection, servers, name });
    try {
      const jsm = await jetstreamManager(nc);
      if (this.options.ensureStream ?? true) await ensureWorkStream(jsm, this.stream, { update: false });
      this.js = jsm.jetstream();
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
    this.nc = nc;
    this._status$.next('connected');
    this.watchConnection(nc).catch((error: unknown) =>
      this.logger.error({ msg: 'watching the NATS connection failed', error: String(error) }),
    );
    return nc;
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    await followConnection(nc, {
      logger: this.logger,
      onState: (state, server) => {
        if (state === 'reconnecting') return this._status$.next('reconnecting');
        this._status$.next(state === 'disconnected' ? 'disconnected' : 'connected');
        this.emitter.emit(state === 'disconnected' ? 'disconnect' : 'reconnect', server);
      },
    });
    if (this.nc === nc) {
      // Gave up reconnecting: the next emit connects afresh.
      this.logger.error({ msg: 'NATS connection closed; the next emit reconnects' });
      this.nc = undefined;
      this.js = undefined;
      this.connection = undefined;
      this._status$.next('closed');
    }
  }
}
