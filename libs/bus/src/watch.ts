import {
  type ConsumerMessages,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';

import { type EventReader } from '@app/event-store';

import { BusEvent, WatchBroken } from './bus-event.js';
import {
  type EventStreamOptions,
  resolveEventStream,
  WATCH_PULL_BATCH,
  watchConsumerOptions,
} from './event-stream.js';

export interface WatchOptions {
  nats: NatsConnection;
  /**
   * The log: where the watch reads what the stream does not (or no longer) hold. Without it
   * (a component that reaches the store only through the API) such a hole ends the watch
   * with `WatchGap`, and the caller lists again through the API.
   */
  log?: EventReader;
  stream?: EventStreamOptions;
  /** Deliver events with seq > this (a resourceVersion). */
  after: number;
  /** Log page size when catching up. Default 500. */
  pageSize?: number;
  /** How long to wait before looking at the stream again after it failed. Default 200 ms. */
  retryMs?: number;
  /** Told of each failure to read the stream (the watch goes on from the log and retries). */
  onTrouble?: (error: Error) => void;
  /**
   * How long the consumer may deliver nothing while the stream holds events after the watch's
   * position before the watch reopens it from there. Default 10 s. (Under load an ordered
   * consumer was seen to stop pulling for a minute at a time, tens of thousands of events
   * behind, until the client library reset it; a watch must not wait for that.)
   */
  stallMs?: number;
  /** Opens the consumer's messages from a stream position: a seam for tests that fake a stall. */
  openMessages?: (after: number) => Promise<ConsumerMessages>;
}

/**
 * The watch cannot go on from the stream alone: it starts before the stream's first event,
 * or the stream is gone or unreachable, and the watch has no log to read instead.
 */
export class WatchGap extends Error {
  override name = 'WatchGap';
}

/**
 * Every event after `after`, in seq order, exactly once: etcd's watch
 * guarantees (ordered, unique, reliable, resumable) over JetStream, with the log as backstop.
 *
 * The stream is read unfiltered with an ordered consumer (nats-server 2.9 cannot serve a
 * filtered ordered consumer), so every seq passes by and a hole is visible: the watch tracks
 * the last seq it has seen, skips anything at or below it, and fills any hole — a start before
 * the stream's hot tail, a stream wiped and rebuilt — from the log. Secrets come as the bus
 * carries them, redacted. Filtering and revealing are per watch, in the `WatchHub` that one of
 * these feeds.
 */
export class EventWatch implements AsyncIterable<BusEvent> {
  private cursor: number;
  private stopped = false;
  private stopConsumer?: () => void;
  private readonly stream;
  private jsm?: JetStreamManager;

  constructor(private readonly options: WatchOptions) {
    if (!Number.isSafeInteger(options.after) || options.after < 0)
      throw new RangeError(`a watch starts after a resourceVersion >= 0, not ${options.after}`);
    this.cursor = options.after;
    this.stream = resolveEventStream(options.stream);
  }

  /** The last seq this watch has delivered. */
  get seen(): number {
    return this.cursor;
  }

  stop(): void {
    this.stopped = true;
    this.stopConsumer?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<BusEvent> {
    // No API check: it is a request that fails while NATS is down, and a watch serves the
    // log meanwhile rather than fail.
    this.jsm ??= await jetstreamManager(this.options.nats, { checkAPI: false });
    while (!this.stopped) {
      let firstInStream: number;
      try {
        firstInStream = (await this.jsm.streams.info(this.stream.name)).state.first_seq;
      } catch (e) {
        // No stream (wiped, not yet rebuilt) or NATS unreachable: serve what the log has
        // meanwhile. Nothing about the bus is fatal to a watch; the log is the truth.
        if (!this.options.log)
          throw new WatchGap(`stream ${this.stream.name} unavailable: ${(e as Error).message}`);
        this.options.onTrouble?.(e as Error);
        yield* this.fromLog(Number.MAX_SAFE_INTEGER);
        await this.pause();
        continue;
      }
      if (this.cursor + 1 < firstInStream) {
        yield* this.fromLog(firstInStream - 1);
        continue;
      }
      try {
        yield* this.fromStream();
      } catch (e) {
        // The consumer went away (stream wiped, consumer reaped after missed heartbeats,
        // server restart): open a new one from the cursor. Only a broken contract is fatal.
        if (e instanceof WatchBroken || e instanceof WatchGap) throw e;
        this.options.onTrouble?.(e as Error);
      }
      if (!this.stopped) await this.pause();
    }
  }

  private async openMessages(after: number): Promise<ConsumerMessages> {
    if (this.options.openMessages) return this.options.openMessages(after);
    const consumer = await jetstream(this.options.nats).consumers.get(
      this.stream.name,
      watchConsumerOptions(after),
    );
    return consumer.consume({ abort_on_missing_resource: true, max_messages: WATCH_PULL_BATCH });
  }

  /**
   * Closes `messages` if they stall: the watch waited `stallMs` for a message while the stream
   * holds events after the cursor. The watch then opens a new consumer from the cursor (the same
   * path as after a lost consumer). Returns the stop function of the check.
   */
  private watchForStall(messages: ConsumerMessages, waitingSince: () => number | undefined): () => void {
    const stallMs = this.options.stallMs ?? 10_000;
    let checking = false;
    const timer = setInterval(
      () => {
        const since = waitingSince();
        if (checking || since === undefined || Date.now() - since < stallMs) return;
        checking = true;
        const at = this.cursor;
        void (this.jsm as JetStreamManager).streams
          .info(this.stream.name)
          .then((info) => {
            if (this.stopped || this.cursor !== at || info.state.last_seq <= at) return;
            this.options.onTrouble?.(
              new Error(
                `stream ${this.stream.name}: the consumer delivered nothing for ${stallMs} ms at seq ${at} with the stream at ${info.state.last_seq}; reopening it`,
              ),
            );
            void messages.close();
          })
          // Cannot tell (NATS busy or away): the consumer's own errors will say more.
          .catch(() => undefined)
          .finally(() => (checking = false));
      },
      Math.max(50, stallMs / 4),
    );
    return () => clearInterval(timer);
  }

  private async *fromStream(): AsyncGenerator<BusEvent> {
    const messages = await this.openMessages(this.cursor);
    this.stopConsumer = () => void messages.close();
    // stop() may have come while the consumer was being opened: it found nothing to close then.
    if (this.stopped) void messages.close();
    // Since when the watch has been waiting for the consumer's next message; undefined while
    // it handles one (a slow reader downstream is not a stalled consumer).
    let waitingSince: number | undefined = Date.now();
    const stopStallCheck = this.watchForStall(messages, () => waitingSince);
    try {
      for await (const m of messages) {
        waitingSince = undefined;
        try {
          if (this.stopped) break;
          if (m.seq <= this.cursor) continue; // seen already (a rebuilt stream replays)
          if (m.seq > this.cursor + 1) yield* this.fromLog(m.seq - 1);
          if (m.seq !== this.cursor + 1) continue;
          // Parsed only if a watch wants it; the parse checks the seq (BusEvent.event).
          yield this.deliver(new BusEvent(m.seq, m.subject, m.data));
        } finally {
          waitingSince = Date.now();
        }
      }
    } finally {
      stopStallCheck();
      this.stopConsumer = undefined;
      await messages.close().catch(() => undefined);
    }
  }

  /** Events after the cursor up to `until` from the log, in the form the bus carries them. */
  private async *fromLog(until: number): AsyncGenerator<BusEvent> {
    const log = this.options.log;
    if (!log) throw new WatchGap(`events ${this.cursor + 1}..${until} are not in stream ${this.stream.name}`);
    while (!this.stopped && this.cursor < until) {
      const page = await log.afterEncoded(this.cursor, this.options.pageSize ?? 500);
      if (page.length === 0) return;
      for (const encoded of page) {
        if (encoded.seq > until || this.stopped) return;
        yield this.deliver(BusEvent.fromLog(encoded));
      }
    }
  }

  /** The next event, checked to be the one after the cursor. */
  private deliver(event: BusEvent): BusEvent {
    if (event.seq !== this.cursor + 1) {
      throw new WatchBroken(`expected seq ${this.cursor + 1}, got ${event.seq}`);
    }
    this.cursor = event.seq;
    return event;
  }

  private pause(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.options.retryMs ?? 200));
  }
}
