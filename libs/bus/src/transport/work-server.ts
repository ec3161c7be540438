import { EventEmitter } from 'node:events';

import {
  type ConsumerMessages,
  type ConsumerNotification,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';

import { followConnection } from './connection-status.js';
import {
  assertWorkFilter,
  ensureWorkConsumer,
  ensureWorkStream,
  type JetStreamWorkOptions,
  type JetStreamWorkOptionsInput,
  progressIntervalMs,
  resolveWorkOptions,
  retryDelayMs,
} from './jetstream-work.js';
import { isTerminalWorkError } from './terminal-work-error.js';
import { JetStreamWorkContext } from './work-context.js';

/**
 * The transport id of JetStream work handlers: `@EventPattern('work.gc', JETSTREAM_WORK_TRANSPORT)`
 * binds a handler to this transport only, in an application that runs several.
 */
export const JETSTREAM_WORK_TRANSPORT = Symbol.for('wake.bus.JetStreamWork');

export interface JetStreamWorkServerOptions extends JetStreamWorkOptionsInput {
  /** nats-server URL(s). */
  servers: string | string[];
  /** Connection name, as nats-server reports it. */
  name?: string;
  /** Any other connection option; reconnection is unlimited unless set here. */
  connection?: Omit<NodeConnectionOptions, 'servers' | 'name'>;
  /** Which errors end a message instead of retrying it. Default: TerminalWorkError only. */
  isTerminal?: (error: unknown) => boolean;
  /** Longest `close()` waits for running handlers before closing anyway. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Delay before consuming again after a consumer stopped unexpectedly. Default 1 s. */
  restartDelayMs?: number;
}

export type JetStreamWorkStatus = 'connected' | 'disconnected' | 'reconnecting' | 'draining' | 'closed';

/** What became of a delivery that was not acknowledged. */
export interface WorkFailure {
  pattern: string;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  error: unknown;
  /** `retry`: nak'ed, to come back after `delayMs`; `terminated`: given up for good. */
  outcome: 'retry' | 'terminated';
  delayMs?: number;
  /** Why a terminated message was given up. */
  reason?: 'terminal-error' | 'max-deliver' | 'undecodable';
}

export type JetStreamWorkEvents = {
  disconnect: (server: string) => void;
  reconnect: (server: string) => void;
  /** A message given up for good (terminal error, undecodable, or out of deliveries). */
  terminated: (failure: WorkFailure) => void;
  /** A delivery that failed and will be retried. */
  retry: (failure: WorkFailure) => void;
};

interface ConsumerRun {
  pattern: string;
  durable: string;
  messages?: ConsumerMessages;
  active: Set<Promise<void>>;
  loop: Promise<void>;
}

const decoder = new TextDecoder();

/**
 * A Nest transport that runs `@EventPattern` handlers for work subjects on NATS JetStream.
 *
 * Each pattern gets a durable pull consumer on the work stream; every instance of the service
 * binds the same consumer, so each message goes to one of them. A message is acknowledged
 * only once its handler (and the stream it returns) completed; a failure is retried with
 * exponential backoff (`nak` with a delay) until `maxDeliver`, or terminated at once when the
 * handler throws a `TerminalWorkError`. While a handler runs, the transport reports
 * progress so that JetStream does not hand the message to another worker. `close()` stops
 * pulling, gives back what it pulled but had not started, waits for running handlers and then
 * drains the connection.
 *
 * Handlers must be idempotent: a worker that dies between finishing and acknowledging makes
 * JetStream deliver the message again.
 */
export class JetStreamWorkServer
  extends Server<JetStreamWorkEvents, JetStreamWorkStatus>
  implements CustomTransportStrategy
{
  override transportId = JETSTREAM_WORK_TRANSPORT;
  /** Handler failures come back to this transport, which logs and retries or terminates them. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(JetStreamWorkServer.name);

  readonly options: JetStreamWorkOptions;
  private readonly isTerminal: (error: unknown) => boolean;
  private readonly emitter = new EventEmitter();
  private nc?: NatsConnection;
  private runs: ConsumerRun[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private closing?: Promise<void>;
  private stopRequested = false;
  private wakeStopped: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => (this.wakeStopped = resolve));
  private termWithReason = false;

  constructor(private readonly serverOptions: JetStreamWorkServerOptions) {
    super();
    this.options = resolveWorkOptions(serverOptions);
    this.isTerminal = serverOptions.isTerminal ?? isTerminalWorkError;
  }

  /** The durable consumer names, by pattern (after `listen`). */
  get consumers(): ReadonlyMap<string, string> {
    return new Map(this.runs.map((r) => [r.pattern, r.durable]));
  }

  /** Handlers running right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      this.logger.error({ msg: 'JetStream work transport failed to start', error: describe(error) });
      const nc = this.nc;
      this.nc = undefined;
      await nc?.close().catch(() => undefined);
      callback(error);
      return;
    }
    callback();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  on<
    EventKey extends keyof JetStreamWorkEvents = keyof JetStreamWorkEvents,
    EventCallback extends JetStreamWorkEvents[EventKey] = JetStreamWorkEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    this.emitter.on(event, callback);
  }

  /** The NATS connection. */
  unwrap<T>(): T {
    if (!this.nc) throw new Error('Not initialized: call listen() (or startAllMicroservices()) first.');
    // Nest's contract: the caller names the type of the underlying client.
    return this.nc as unknown as T;
  }

  private patterns(): string[] {
    const patterns: string[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler)
        throw new Error(
          `JetStreamWorkServer runs @EventPattern handlers only; ${JSON.stringify(pattern)} is a @MessagePattern ` +
            '(request/response): serve it on another transport, and give handlers meant for that transport its id',
        );
      assertWorkFilter(pattern, this.options.stream);
      patterns.push(pattern);
    }
    return patterns;
  }

  private async start(): Promise<void> {
    if (this.closing) throw new Error('JetStreamWorkServer was closed; create a new one');
    const patterns = this.patterns();
    const { servers, name, connection } = this.serverOptions;
    const nc = await connect({ maxReconnectAttempts: -1, ...connection, servers, name });
    this.nc = nc;
    this.termWithReason = serverAtLeast(nc.info?.version, 2, 11);
    this.watchConnection(nc).catch((error: unknown) =>
      this.logger.error({ msg: 'watching the NATS connection failed', error: describe(error) }),
    );
    const jsm = await jetstreamManager(nc);
    const js = jsm.jetstream();
    await ensureWorkStream(jsm, this.options.stream, { update: true });
    const durables: string[] = [];
    for (const pattern of patterns) durables.push(await ensureWorkConsumer(jsm, pattern, this.options));
    if (!patterns.length)
      this.logger.warn({ msg: 'no @EventPattern handlers registered: nothing to consume' });
    this.runs = patterns.map((pattern, i) => {
      const run: ConsumerRun = { pattern, durable: durables[i], active: new Set(), loop: Promise.resolve() };
      run.loop = this.superviseRun(run, nc, jsm, js);
      return run;
    });
    this._status$.next('connected');
    this.logger.log({
      msg: 'consuming work',
      stream: this.options.stream.name,
      consumers: Object.fromEntries(this.runs.map((r) => [r.pattern, r.durable])),
    });
  }

  /** Consumes one pattern until close; a consumer that stops unexpectedly is set up again. */
  private async superviseRun(
    run: ConsumerRun,
    nc: NatsConnection,
    jsm: JetStreamManager,
    js: JetStreamClient,
  ): Promise<void> {
    const { stream } = this.options;
    let first = true;
    while (!this.stopRequested && !nc.isClosed()) {
      try {
        if (!first) await ensureWorkConsumer(jsm, run.pattern, this.options);
        first = false;
        const consumer = await js.consumers.get(stream.name, run.durable);
        if (this.stopRequested) break;
        const messages = await consumer.consume({ max_messages: this.options.consumer.concurrency });
        run.messages = messages;
        if (this.stopRequested) {
          await messages.close();
          break;
        }
        void this.watchConsumer(run, messages, jsm);
        await this.drive(run, messages);
        if (!this.stopRequested) {
          this.logger.error({ msg: 'work consumer stopped unexpectedly; restarting', pattern: run.pattern });
          await messages.close();
        }
      } catch (error) {
        await run.messages?.close().catch(() => undefined);
        if (this.stopRequested) break;
        this.logger.error({
          msg: 'work consumer failed; restarting',
          pattern: run.pattern,
          consumer: run.durable,
          error: describe(error),
        });
      }
      if (!this.stopRequested)
        await Promise.race([delay(this.serverOptions.restartDelayMs ?? 1_000), this.stopped]);
    }
    await Promise.all(run.active);
  }

  /** Hands each pulled message to its handler, at most `concurrency` at once. */
  private async drive(run: ConsumerRun, messages: ConsumerMessages): Promise<void> {
    const { concurrency } = this.options.consumer;
    for await (const msg of messages) {
      // Wait for a free slot; close() cuts the wait short so that the rest is given back.
      while (run.active.size >= concurrency && !this.stopRequested)
        await Promise.race([...run.active, this.stopped]);
      if (this.stopRequested) {
        // Pulled but not started: give it back now rather than after ack_wait.
        this.giveBack(msg);
        continue;
      }
      const task: Promise<void> = this.process(run.pattern, msg).finally(() => {
        run.active.delete(task);
        this.inFlight.delete(task);
      });
      run.active.add(task);
      this.inFlight.add(task);
    }
  }

  /** Runs the handler for one delivery and settles it: ack, nak with a delay, or term. Never rejects. */
  private async process(pattern: string, msg: JsMsg): Promise<void> {
    const delivery = {
      pattern,
      subject: msg.subject,
      streamSequence: msg.seq,
      deliveryCount: msg.info.deliveryCount,
    };
    try {
      let data: unknown;
      try {
        data = JSON.parse(decoder.decode(msg.data));
      } catch (error) {
        this.terminate(msg, { ...delivery, error, outcome: 'terminated', reason: 'undecodable' });
        return;
      }
      const handler = this.getHandlerByPattern(pattern);
      if (!handler) throw new Error(`no handler for ${pattern}`);
      const context = new JetStreamWorkContext([msg.subject, msg, pattern]);
      const progress = setInterval(
        () => this.reportProgress(msg, delivery),
        progressIntervalMs(this.options.consumer),
      );
      try {
        await this.invoke(handler, data, context);
      } catch (error) {
        this.failed(msg, { ...delivery, error });
        return;
      } finally {
        clearInterval(progress);
      }
      await this.acknowledge(msg, delivery);
    } catch (error) {
      // Only a bug in this transport gets here; the message comes back after ack_wait.
      this.logger.error({ msg: 'work delivery could not be settled', ...delivery, error: describe(error) });
    }
  }

  /** Calls the handler inside Nest's processing hooks; resolves once its result (or stream) completed. */
  private invoke(handler: MessageHandler, data: unknown, context: JetStreamWorkContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await handler(data, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          resolve();
        } catch (error) {
          reject(error);
        } finally {
          runEndHook();
        }
      });
    });
  }

  /** Tells JetStream the handler is still running, so that the message is not delivered to another worker. */
  private reportProgress(msg: JsMsg, delivery: Omit<WorkFailure, 'error' | 'outcome'>): void {
    try {
      msg.working();
    } catch (error) {
      this.logger.warn({ msg: 'reporting work progress failed', ...delivery, error: describe(error) });
    }
  }

  private giveBack(msg: JsMsg): void {
    try {
      msg.nak();
    } catch (error) {
      // It comes back after ack_wait instead.
      this.logger.warn({
        msg: 'giving back unstarted work failed',
        subject: msg.subject,
        error: describe(error),
      });
    }
  }

  private async acknowledge(msg: JsMsg, delivery: Omit<WorkFailure, 'error' | 'outcome'>): Promise<void> {
    try {
      if (await msg.ackAck()) {
        this.logger.debug({ msg: 'work done', ...delivery });
        return;
      }
      this.logger.error({
        msg: 'work done but its ack was not confirmed; it will be delivered again',
        ...delivery,
      });
    } catch (error) {
      this.logger.error({
        msg: 'work done but acking failed; it will be delivered again',
        ...delivery,
        error: describe(error),
      });
    }
  }

  private failed(msg: JsMsg, failure: Omit<WorkFailure, 'outcome'>): void {
    const { maxDeliver, retry } = this.options.consumer;
    if (this.isTerminal(failure.error)) {
      this.terminate(msg, { ...failure, outcome: 'terminated', reason: 'terminal-error' });
    } else if (maxDeliver !== -1 && failure.deliveryCount >= maxDeliver) {
      this.terminate(msg, { ...failure, outcome: 'terminated', reason: 'max-deliver' });
    } else {
      const delayMs = retryDelayMs(failure.deliveryCount, retry);
      msg.nak(delayMs);
      const retrying: WorkFailure = { ...failure, outcome: 'retry', delayMs };
      this.logger.warn({ msg: 'work failed; will retry', ...loggable(retrying) });
      this.emitSafely('retry', retrying);
    }
  }

  private terminate(msg: JsMsg, failure: WorkFailure): void {
    // Servers before 2.11 ignore a +TERM that carries a reason, so only newer ones get one.
    msg.term(this.termWithReason ? `${failure.reason}: ${describe(failure.error)}`.slice(0, 256) : undefined);
    this.logger.error(
      { msg: 'work terminated; it will not be delivered again', ...loggable(failure) },
      failure.error instanceof Error ? failure.error.stack : undefined,
    );
    this.emitSafely('terminated', failure);
  }

  private emitSafely(event: 'retry' | 'terminated', failure: WorkFailure): void {
    try {
      this.emitter.emit(event, failure);
    } catch (error) {
      this.logger.error({ msg: `a "${event}" listener threw`, error: describe(error) });
    }
  }

  private async watchConsumer(
    run: ConsumerRun,
    messages: ConsumerMessages,
    jsm: JetStreamManager,
  ): Promise<void> {
    try {
      for await (const note of messages.status()) this.logConsumerNotification(run, note, jsm);
    } catch (error) {
      this.logger.error({ msg: 'work consumer status failed', pattern: run.pattern, error: describe(error) });
    }
  }

  private logConsumerNotification(run: ConsumerRun, note: ConsumerNotification, jsm: JetStreamManager): void {
    const where = { pattern: run.pattern, consumer: run.durable };
    switch (note.type) {
      case 'heartbeats_missed':
      case 'exceeded_limits':
      case 'no_responders':
        this.logger.warn({ msg: `work consumer: ${note.type}`, ...where, ...note });
        break;
      case 'consumer_deleted':
      case 'consumer_not_found':
      case 'stream_not_found':
        // JetStream lost them (a wiped store): set them up again; consume() retries on its own.
        this.logger.warn({ msg: `work consumer: ${note.type}; recreating`, ...where });
        if (!this.stopRequested)
          ensureWorkStream(jsm, this.options.stream, { update: false })
            .then(() => ensureWorkConsumer(jsm, run.pattern, this.options))
            .catch((error: unknown) =>
              this.logger.error({ msg: 'recreating work consumer failed', ...where, error: describe(error) }),
            );
        break;
      default:
        break;
    }
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    await followConnection(nc, {
      logger: this.logger,
      onState: (state, server) => {
        if (state === 'reconnecting') return this._status$.next('reconnecting');
        this._status$.next(
          state === 'disconnected' ? 'disconnected' : this.stopRequested ? 'draining' : 'connected',
        );
        this.emitter.emit(state === 'disconnected' ? 'disconnect' : 'reconnect', server);
      },
    });
    if (!this.stopRequested && this.nc === nc) {
      this.logger.error({ msg: 'NATS connection closed for good; this worker consumes nothing more' });
      this._status$.next('closed');
    }
  }

  private async shutdown(): Promise<void> {
    this.stopRequested = true;
    this.wakeStopped();
    if (!this.nc) {
      this._status$.next('closed');
      return;
    }
    this._status$.next('draining');
    const running = this.inFlight.size;
    if (running) this.logger.log({ msg: 'closing: waiting for running work', running });
    // Stop pulling (what was pulled but not started is nak'ed by drive()), then wait for the
    // consumer loops, which end once their running handlers have settled their messages.
    const stopping = this.runs.map((run) =>
      Promise.all([run.messages?.close().catch(() => undefined), run.loop]),
    );
    const timeoutMs = this.serverOptions.shutdownTimeoutMs ?? 30_000;
    const settled = await Promise.race([
      Promise.all(stopping).then(() => true),
      delay(timeoutMs).then(() => false),
    ]);
    if (!settled)
      this.logger.error({
        msg: `closing: work still running after ${timeoutMs} ms; closing anyway (it will be delivered again)`,
        running: this.inFlight.size,
      });
    try {
      await this.nc.drain();
    } catch (error) {
      this.logger.error({ msg: 'draining the NATS connection failed', error: describe(error) });
      await this.nc.close().catch(() => undefined);
    }
    this._status$.next('closed');
    this.emitter.removeAllListeners();
  }
}

/** Logs hold the error's message, not the error object. */
function loggable(failure: WorkFailure): Record<string, unknown> {
  return { ...failure, error: describe(failure.error) };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  )
    return (error as { message: string }).message;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function serverAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}
