import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { type ReservedSql, type Sql } from 'postgres';

import { type EncodedEvent, EventReader, NOTIFY_CHANNEL } from '@app/event-store';

import { HASH_HEADER, SEQ_HEADER } from './bus-event.js';
import {
  ensureEventStream,
  type EventStreamOptions,
  resolveEventStream,
  type ResolvedEventStream,
} from './event-stream.js';
import { StreamPublisher } from './stream-publisher.js';
import { subjectOf } from './subjects.js';

const encoder = new TextEncoder();

export interface RelayOptions {
  /** The application pool of the event store (reads the log). */
  sql: Sql;
  nats: NatsConnection;
  stream?: EventStreamOptions;
  /** Safety-net poll when no NOTIFY arrives, in milliseconds. Default 1000. */
  pollMs?: number;
  /**
   * Least time between the starts of two reads of the log's tail, in milliseconds (default
   * RELAY_READ_INTERVAL_MS). Under a steady stream of small appends each NOTIFY would cost a
   * read, a Postgres round trip and a NATS socket write of its own; the interval lets one read
   * and one flush carry everything appended meanwhile. An idle log's first event is read at
   * once; the price is up to this much added delivery latency under load. 0: read on every NOTIFY.
   */
  readIntervalMs?: number;
  /** Events read from the log per page. Default 1000. */
  pageSize?: number;
  /** Publishes awaiting their ack at once. Default 256. */
  inFlight?: number;
  /** Advisory lock key that makes one relay active per log. */
  lockKey?: number;
  /** Called once when the relay halts on a broken invariant; the process should exit. */
  onHalt?: (error: RelayHalted) => void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export const RELAY_LOCK_KEY = 0x5741_4b45; // "WAKE"

/**
 * See RelayOptions.readIntervalMs. The API bench's fan-out at 1,000 single appends/s: with 10
 * watchers the machine went from 62 % to 42 % busy (the relay's Postgres and NATS writes, and
 * nats-server's reads, now come a few events at a time); 500 watchers' p99 went from 126 to 78 ms.
 */
export const RELAY_READ_INTERVAL_MS = 5;

/** The stream and the log disagree in a way the relay must not paper over. */
export class RelayHalted extends Error {
  override name = 'RelayHalted';
}

/** Publishing went wrong in a way a fresh look at the stream can recover from. */
class Resync extends Error {}

export interface RelayStats {
  published: number;
  /** Reads of the log's tail (a catch-up's further full pages not counted). */
  reads: number;
  resyncs: number;
  lastPublished: number;
}

/**
 * Copies the log to the event stream: every event, in seq order, once, with stream sequence
 * = event seq (invariant 4). One relay is active per log (an advisory lock; others wait).
 *
 * - Each message has msgID = seq (duplicates within the window are dropped by JetStream) and,
 *   but for the first of a run, expects the previous message's msgID to be the stream's last:
 *   a publish that failed makes every later one in the pipeline fail too, never leave a hole.
 * - Each ack's stream sequence must equal the event's seq; otherwise the relay halts loudly.
 * - On start and after any failure it looks at what the stream holds and goes on from there:
 *   the stream's last message must be the log's event at that seq (same hash), or it halts.
 * - A missing or wiped stream is recreated and refilled from the log's hot tail: on an empty
 *   stream, purging up to seq S makes the next message get sequence S (nats-server 2.9 has no
 *   first_seq option).
 */
export class Relay {
  readonly stats: RelayStats = { published: 0, reads: 0, resyncs: 0, lastPublished: 0 };
  private readonly options: Required<Omit<RelayOptions, 'stream' | 'onHalt' | 'log'>> &
    Pick<RelayOptions, 'onHalt' | 'log'>;
  private readonly stream: ResolvedEventStream;
  private readonly reader: EventReader;
  private jsm!: JetStreamManager;
  private publisher!: StreamPublisher;
  /** The stream's last message is known to have msgID = its seq: publishes may chain on it. */
  private chained = false;
  private lockConn?: ReservedSql;
  private stopping = false;
  private wake?: () => void;
  /** A NOTIFY arrived since the relay last looked at the log. */
  private notified = false;
  /** When the last read of the log's tail began (performance.now()). */
  private lastRead = -Infinity;
  private loop?: Promise<void>;
  private unlisten?: () => Promise<void>;

  constructor(options: RelayOptions) {
    this.options = {
      pollMs: 1000,
      readIntervalMs: RELAY_READ_INTERVAL_MS,
      pageSize: 1000,
      inFlight: 256,
      lockKey: RELAY_LOCK_KEY,
      ...options,
    };
    this.stream = resolveEventStream(options.stream);
    this.reader = new EventReader(options.sql);
  }

  /** Waits to become the active relay, then runs until `stop()`. Resolves once active. */
  async start(): Promise<void> {
    this.publisher = new StreamPublisher(this.options.nats);
    // No API check at start: NATS may be down; the run loop retries until it is back.
    this.jsm = await jetstreamManager(this.options.nats, { checkAPI: false });
    this.lockConn = await this.options.sql.reserve();
    while (!this.stopping) {
      const [{ locked }] = await this.lockConn<{ locked: boolean }[]>`
        SELECT pg_try_advisory_lock(${this.options.lockKey}) AS locked`;
      if (locked) break;
      await this.sleep(this.options.pollMs);
    }
    if (this.stopping) return;
    const listener = await this.options.sql.listen(NOTIFY_CHANNEL, () => {
      this.notified = true;
      this.wake?.();
    });
    this.unlisten = () => listener.unlisten();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    // Each resource is let go once, whoever calls stop() again.
    const [unlisten, lockConn] = [this.unlisten, this.lockConn];
    this.unlisten = this.lockConn = undefined;
    await unlisten?.();
    this.publisher?.close();
    if (lockConn) {
      await lockConn`SELECT pg_advisory_unlock(${this.options.lockKey})`.catch(() => undefined);
      lockConn.release();
    }
  }

  /** Resolves once the stream holds the log up to `seq`. */
  async caughtUp(seq: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.stats.lastPublished < seq) {
      if (Date.now() > deadline)
        throw new Error(`relay did not reach seq ${seq} (at ${this.stats.lastPublished})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async run(): Promise<void> {
    // Where to go on from; unknown at start and after any failure, until the stream is looked at.
    let next: number | undefined;
    while (!this.stopping) {
      try {
        next ??= await this.resync();
        next = await this.publishFrom(next);
      } catch (e) {
        next = undefined;
        this.chained = false;
        if (e instanceof RelayHalted) {
          this.options.log?.('relay halted', { error: e.message });
          this.stopping = true;
          this.options.onHalt?.(e);
          return;
        }
        this.stats.resyncs++;
        this.options.log?.('relay resyncing', { error: (e as Error).message });
        await this.sleep(Math.min(this.options.pollMs, 200), false);
        continue;
      }
      await this.sleep(this.options.pollMs);
    }
  }

  /** Looks at the stream (creating and seeding it if needed); returns the next seq to publish. */
  private async resync(): Promise<number> {
    await ensureEventStream(this.jsm, this.stream);
    const { state } = await this.jsm.streams.info(this.stream.name);
    const { seq: head } = await this.reader.head();
    if (state.last_seq > head) {
      throw new RelayHalted(
        `stream ${this.stream.name} holds seq ${state.last_seq}, beyond the log head ${head}: it belongs to another log`,
      );
    }
    if (state.messages > 0) {
      const last = await this.jsm.streams.getMessage(this.stream.name, { seq: state.last_seq });
      const event = await this.reader.at(state.last_seq);
      if (!event || last?.header.get(HASH_HEADER) !== event.hash) {
        throw new RelayHalted(
          `stream ${this.stream.name} message ${state.last_seq} does not match the log's event ${state.last_seq}`,
        );
      }
      this.stats.lastPublished = state.last_seq;
      // Its msgID is its seq (the hash matched): later publishes may chain on it.
      this.chained = true;
      return state.last_seq + 1;
    }
    // Empty (new, wiped or purged): start at the hot tail's beginning.
    const first = Math.max(1, head - this.stream.maxMessages + 1, state.first_seq);
    if (state.first_seq !== first && state.last_seq + 1 !== first) {
      await this.jsm.streams.purge(this.stream.name, { seq: first });
    }
    this.stats.lastPublished = first - 1;
    this.options.log?.('relay seeding the stream', { stream: this.stream.name, from: first, head });
    return first;
  }

  /** Publishes events from `next` on, as far as the log goes; returns the next unpublished seq. */
  private async publishFrom(next: number): Promise<number> {
    this.notified = false;
    this.lastRead = performance.now();
    this.stats.reads++;
    let page = await this.reader.afterEncoded(next - 1, this.options.pageSize);
    while (!this.stopping && page.length > 0) {
      const full = page.length === this.options.pageSize;
      const after = page[page.length - 1].seq;
      // Read the next page while this one is published (catch-up overlaps the two). A NOTIFY
      // from here on is for events this read may miss: it must wake the next sleep.
      if (full) this.notified = false;
      const following = full ? this.reader.afterEncoded(after, this.options.pageSize) : undefined;
      following?.catch(() => undefined);
      await this.publishPage(page);
      next = after + 1;
      // A short page was the end of the log when read; a NOTIFY since then wakes us at once.
      if (!following) return next;
      page = await following;
    }
    return next;
  }

  private async publishPage(page: EncodedEvent[]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const event of page) {
      const ack = this.publish(event);
      // Awaited in order below; once one fails the rest are moot and must not go unhandled.
      ack.catch(() => undefined);
      // The first publish after a resync sets the msgID chain the pipelined ones rely on.
      if (!this.chained) {
        await ack;
        this.chained = true;
      } else pending.push(ack);
      if (pending.length >= this.options.inFlight) await pending.shift();
    }
    await Promise.all(pending);
  }

  private async publish(event: EncodedEvent): Promise<void> {
    const h = headers();
    h.set(SEQ_HEADER, String(event.seq));
    h.set(HASH_HEADER, event.hash);
    let ack;
    try {
      ack = await this.publisher.publish(
        subjectOf(event, event.node),
        encoder.encode(event.json),
        String(event.seq),
        this.chained ? String(event.seq - 1) : undefined,
        h,
      );
    } catch (e) {
      throw new Resync(`publishing seq ${event.seq}: ${(e as Error).message}`, { cause: e });
    }
    if (ack.seq !== event.seq) {
      throw new RelayHalted(
        `stream ${this.stream.name} stored event ${event.seq} at sequence ${ack.seq}${ack.duplicate ? ' (duplicate)' : ''}`,
      );
    }
    this.stats.published++;
    this.stats.lastPublished = Math.max(this.stats.lastPublished, event.seq);
  }

  /**
   * Waits `ms`, or less: a NOTIFY (one that came while we were publishing, or one that comes
   * now) ends the wait once `readIntervalMs` has passed since the last read began, unless
   * `notifies` is false (a backoff after a failure, which a burst of commits must not turn into
   * a busy loop); stop() ends it at once.
   */
  private sleep(ms: number, notifies = true): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const deadline = performance.now() + ms;
    // A NOTIFY never makes the wait longer than the poll it interrupts.
    const untilNextRead = () =>
      Math.min(this.lastRead + this.options.readIntervalMs, deadline) - performance.now();
    const first = this.notified && notifies ? untilNextRead() : ms;
    if (first <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.wake = undefined;
        resolve();
      };
      let timer = setTimeout(done, first);
      this.wake = () => {
        if (!this.stopping && !notifies) return;
        clearTimeout(timer);
        const left = this.stopping ? 0 : untilNextRead();
        if (left <= 0) done();
        else timer = setTimeout(done, left);
      };
    });
  }
}
