import { type NatsConnection } from '@nats-io/transport-node';

import { type EventReader, type StoredEvent } from '@app/event-store';

import { BusEvent, isRedactedKind } from './bus-event.js';
import { type EventStreamOptions } from './event-stream.js';
import { tokensMatch } from './subjects.js';
import { EventWatch, WatchGap } from './watch.js';

export interface WatchHubOptions {
  nats: NatsConnection;
  /**
   * The log, for watches that start before the ring. A hub without one serves a process that
   * reaches the store only through the API (the informers of a component): it follows the
   * stream from where its first watch starts, moves back for a watch that starts earlier, and
   * ends a watch the stream cannot serve with `WatchGap` — the informer lists again, and its
   * next watch starts the hub afresh.
   */
  log?: EventReader;
  stream?: EventStreamOptions;
  /** Recent events kept in memory for watches that start a little behind. Default 10,000. */
  bufferSize?: number;
  /** Items a watch may have waiting before it is ended as too slow. Default 10,000. */
  maxQueue?: number;
  /** Log page size for watches that start before the buffer. Default 500. */
  pageSize?: number;
  /** Told of the stream's failures (a hub without a log, which recovers from them). */
  onTrouble?: (error: Error) => void;
  /** How long the consumer may stall before it is reopened (see WatchOptions.stallMs). */
  stallMs?: number;
  /**
   * Least time between two hand-overs of new events to the watches (default 0: each turn of the
   * event loop). An event that comes after a quiet spell is handed over at once; under a steady
   * stream each watch is woken at most once per interval, with everything that came meanwhile,
   * so a fan-out to hundreds of watches costs one wake and one socket write per watch per
   * interval rather than per event. The price is up to this much added delivery latency.
   */
  dispatchIntervalMs?: number;
}

export interface WatchRequest {
  /** Deliver events with seq > this. */
  after: number;
  filter?: string;
  revealSecrets?: boolean;
}

/** A watch ended because its reader fell too far behind; start again from `seen`. */
export class WatchTooSlow extends Error {
  override name = 'WatchTooSlow';
}

interface Entry {
  /** The event, parsed only when a watch it matches takes it. */
  bus: BusEvent;
  /** The subject split into tokens, on the first match against a filter. */
  tokens?: string[];
  /** The item every watch it matches queues: one object per event, not one per watch. */
  item?: WatchItem;
  /**
   * Filters already matched against this subject, and their answers: the watches of one
   * list (hundreds of kubectl or informer watches of a kind) share a filter, so each event
   * is matched once per distinct filter, not once per watch.
   */
  matched?: Map<string, boolean>;
}

/** What a hub's watch delivers: an event, or a bookmark saying it has seen the log up to `seq`. */
export type WatchItem = { kind: 'event'; event: StoredEvent } | { kind: 'bookmark'; seq: number };

/** One watch of the hub: an async iterable of items, and where it has got to. */
export interface HubWatch extends AsyncIterable<WatchItem> {
  /**
   * The last seq this watch has passed to its reader, delivered or filtered out: a watch resumed
   * from it misses nothing, and a bookmark may say it. Never ahead of what the reader was given
   * (events the hub has queued for a busy reader are not seen yet).
   */
  readonly seen: number;
  /** The items a burst at a time (the iterator gives them one by one). */
  batches(): AsyncIterable<WatchItem[]>;
  /**
   * Settles when the watch is stopped, or fails (with the error: WatchTooSlow when cut off),
   * before its reader has taken what was queued: a reader waiting on something else (a client
   * not reading) stops waiting.
   */
  readonly ended: Promise<Error | undefined>;
  stop(): void;
}

/**
 * Many watches in one process over one stream consumer, as the kube-apiserver serves many
 * watches from one etcd watch through its watch cache, and as a client-go process shares one
 * informer per kind: one `EventWatch` (which keeps etcd's guarantees) feeds a ring of recent
 * events; each watch catches up from the log or the ring, then goes live in the same tick it
 * catches up (no event can slip between), and filters on its own. A reader that falls
 * `maxQueue` items behind is ended rather than buffered forever.
 */
export class WatchHub {
  private source?: EventWatch;
  /** The follow loops not yet ended: the current one, and any the hub moved back from. */
  private readonly running = new Set<Promise<void>>();
  private readonly ring: (Entry | undefined)[];
  private first = 1;
  private last = 0;
  /** Every open watch; `live` those level with the hub, pushed to as events come. */
  private readonly open = new Set<Subscription>();
  private readonly live = new Set<Subscription>();
  private failure?: Error;
  private stopped = false;
  /**
   * Watches with something new for their reader, woken together at the next hand-over; each at
   * most once (its `handOverDue`). The first `readyCount` slots of an array that keeps its
   * length: a Set cleared per hand-over regrew its table for hundreds of watches dozens of times
   * a second, and so would an array emptied by `length = 0`, which gives up its storage.
   */
  private ready: (Subscription | undefined)[] = [];
  private readyCount = 0;
  /** The other array, which the next hand-over fills while this one's watches are woken. */
  private readyNext: (Subscription | undefined)[] = [];
  private handOverScheduled = false;
  private lastHandOver = 0;

  constructor(private readonly options: WatchHubOptions) {
    this.ring = new Array<Entry | undefined>(options.bufferSize ?? 10_000);
  }

  /** Starts following the stream from the log's current head (a hub without a log starts with its first watch). */
  async start(): Promise<void> {
    if (!this.options.log)
      throw new RangeError('a watch hub without a log starts where its first watch starts');
    const { seq: head } = await this.options.log.head();
    this.follow(head);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.source?.stop();
    await Promise.all(this.running);
    for (const s of this.open) s.end();
  }

  /** The last seq the hub holds. */
  get head(): number {
    return this.last;
  }

  watch(request: WatchRequest): HubWatch {
    if (this.failure) throw this.failure;
    if (this.stopped) throw new RangeError('the watch hub has stopped');
    if (request.revealSecrets && !this.options.log)
      throw new RangeError('a watch that reveals secrets reads them from the log: this hub has none');
    // Without a log the stream is the only source: follow it from this watch's start when the
    // hub is not following yet, or follows from later (its watches skip what they have seen).
    if (!this.options.log && (!this.source || request.after + 1 < this.first)) this.follow(request.after);
    const sub = new Subscription(this, request, {
      log: this.options.log,
      pageSize: this.options.pageSize ?? 500,
      maxQueue: this.options.maxQueue ?? 10_000,
    });
    this.open.add(sub);
    return sub;
  }

  /** @internal the first seq the ring holds (a watch before it reads the log). */
  get oldest(): number {
    return this.first;
  }

  /** @internal the events after `cursor` that the ring still holds, up to the hub's head. */
  fromRing(cursor: number): Entry[] | undefined {
    if (cursor + 1 < this.first) return undefined;
    const out: Entry[] = [];
    for (let seq = cursor + 1; seq <= this.last; seq++) out.push(this.ring[seq % this.ring.length] as Entry);
    return out;
  }

  /** @internal joins the live set if `sub` has caught up with the hub; no await between check and join. */
  join(sub: Subscription): boolean {
    if (this.failure) throw this.failure;
    // A watch may start ahead of the hub (from a resourceVersion it just wrote): it joins and
    // skips what it has seen.
    if (sub.cursor < this.last) return false;
    this.live.add(sub);
    return true;
  }

  /** @internal */
  leave(sub: Subscription): void {
    this.live.delete(sub);
    this.open.delete(sub);
  }

  /** @internal `sub` has new items (or progress) for its reader: wake it at the next hand-over. */
  wakeSoon(sub: Subscription): void {
    if (!sub.handOverDue) {
      sub.handOverDue = true;
      this.ready[this.readyCount++] = sub;
    }
    if (this.handOverScheduled || this.stopped) return;
    this.handOverScheduled = true;
    const wait = this.lastHandOver + (this.options.dispatchIntervalMs ?? 0) - performance.now();
    // Unref'd, and not cancelled at stop: a hand-over after the hub stopped wakes only ended
    // watches, which take nothing more, and holds no process open meanwhile.
    (wait > 0 ? setTimeout(this.handOver, wait) : setImmediate(this.handOver)).unref();
  }

  private readonly handOver = (): void => {
    this.handOverScheduled = false;
    this.lastHandOver = performance.now();
    const subs = this.ready;
    const count = this.readyCount;
    this.ready = this.readyNext;
    this.readyCount = 0;
    for (let i = 0; i < count; i++) {
      const sub = subs[i] as Subscription;
      subs[i] = undefined;
      sub.handOverDue = false;
      sub.wakeUp();
    }
    this.readyNext = subs;
  };

  /** Follows the stream from `after` on, in place of whatever consumer the hub had. */
  private follow(after: number): void {
    this.source?.stop();
    this.first = after + 1;
    this.last = after;
    const source = new EventWatch({
      nats: this.options.nats,
      log: this.options.log,
      stream: this.options.stream,
      after,
      stallMs: this.options.stallMs,
      onTrouble: this.options.onTrouble,
    });
    this.source = source;
    const running = this.run(source).finally(() => this.running.delete(running));
    this.running.add(running);
  }

  private async run(source: EventWatch): Promise<void> {
    try {
      for await (const event of source) {
        // A consumer the hub moved back from may still hand over what it had in flight.
        if (source !== this.source) return;
        const entry: Entry = { bus: event };
        // The ring keeps the event, not what the live watches make of it: its parsed form and
        // their memos (the served object, its line) would live as long as the ring, 10,000
        // events, and every one of them be promoted to the old generation. The API server's
        // fan-out promoted ~10 KB an event so; its scavenges each paused it for 6-15 ms.
        this.ring[event.seq % this.ring.length] = { bus: event.detached() };
        this.last = event.seq;
        this.first = Math.max(this.first, this.last - this.ring.length + 1);
        for (const sub of this.live) sub.push(entry);
      }
    } catch (e) {
      if (source !== this.source) return;
      const error = e as Error;
      if (this.options.log) {
        // With the log behind it, only a broken contract ends a consumer: nothing to go on from.
        this.failure = error;
        for (const s of this.live) s.fail(error);
        return;
      }
      // Without one, the stream could not serve (it is away, or lost what a watch needs): end
      // every watch, whose informers list again; the next watch starts the hub afresh.
      this.source = undefined;
      this.options.onTrouble?.(error);
      for (const s of [...this.open]) s.fail(error);
    }
  }
}

class Subscription implements HubWatch {
  /** The last seq taken from the hub (queued, or filtered out): where catching up goes on from. */
  cursor: number;
  /** The last seq passed to the reader (see HubWatch.seen). */
  private passed: number;
  /** @internal the hub's: the watch waits in its `ready` list for the next hand-over. */
  handOverDue = false;
  private queue: WatchItem[] = [];
  private wake?: () => void;
  private stopped = false;
  private error?: Error;
  private markEnded!: (error: Error | undefined) => void;
  readonly ended = new Promise<Error | undefined>((resolve) => (this.markEnded = resolve));

  private readonly log?: EventReader;
  private readonly pageSize: number;
  private readonly maxQueue: number;
  private readonly filter?: { text: string; tokens: string[] };

  constructor(
    private readonly hub: WatchHub,
    private readonly request: WatchRequest,
    limits: { log?: EventReader; pageSize: number; maxQueue: number },
  ) {
    this.cursor = request.after;
    this.passed = request.after;
    ({ log: this.log, pageSize: this.pageSize, maxQueue: this.maxQueue } = limits);
    if (request.filter) this.filter = { text: request.filter, tokens: request.filter.split('.') };
  }

  get seen(): number {
    return this.passed;
  }

  stop(): void {
    this.end();
  }

  end(): void {
    this.stopped = true;
    this.hub.leave(this);
    this.wake?.();
    this.markEnded(this.error);
  }

  fail(error: Error): void {
    this.error = error;
    this.end();
  }

  /** A live event from the hub, in order (the hub pushes every seq once). */
  push(entry: Entry): void {
    if (entry.bus.seq <= this.cursor) return;
    const matches = this.matches(entry);
    if (matches && this.queue.length >= this.maxQueue) {
      // `seen` stays before this event, so a watch resumed from it gets this event first.
      return this.fail(
        new WatchTooSlow(`watch fell ${this.queue.length} events behind at seq ${this.cursor}`),
      );
    }
    this.cursor = entry.bus.seq;
    // An event filtered out still moves the watch on: its reader sees that progress (a
    // bookmark) at the hand-over, once per burst, as it sees the events it takes.
    if (matches) this.queue.push((entry.item ??= { kind: 'event', event: entry.bus.event }));
    // A burst that fills half the queue within one interval is taken now: `maxQueue` bounds a
    // reader that does not keep up, not the events that one interval gathers.
    if (this.queue.length * 2 >= this.maxQueue) this.wake?.();
    else this.hub.wakeSoon(this);
  }

  /** @internal the hub's hand-over: the reader, if waiting, takes what has come. */
  wakeUp(): void {
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    for await (const batch of this.batches()) {
      // One at a time: the reader has passed each event as it gets it, and the batch's end
      // (filtered-out events after its last) with its last item.
      const end = this.passed;
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i];
        this.passed = i === batch.length - 1 ? end : item.kind === 'event' ? item.event.seq : item.seq;
        yield item;
      }
    }
  }

  /**
   * The same items a burst at a time: what the log, the ring or the live stream had ready
   * together is handed over together, so a consumer serving thousands of watches takes one
   * step per burst, not one per event.
   */
  async *batches(): AsyncGenerator<WatchItem[]> {
    let yielded = this.cursor;
    // Catch up from the log, then the ring, until level with the hub; then join it.
    while (!this.stopped && !this.hub.join(this)) {
      const ring = this.hub.fromRing(this.cursor);
      const batch = ring ?? (await this.fromLog());
      // Nothing to read yet (the hub moved on between our look and the read): look again soon.
      if (batch.length === 0) await new Promise((r) => setTimeout(r, 20));
      const out: WatchItem[] = [];
      for (const entry of batch) {
        if (this.stopped) break;
        this.cursor = entry.bus.seq;
        if (!this.matches(entry)) continue;
        const event = this.mustReveal(entry.bus.event) ? await this.reveal(entry.bus.event) : entry.bus.event;
        out.push({ kind: 'event', event });
        yielded = this.cursor;
      }
      if (out.length > 0) {
        this.passed = this.cursor;
        yield out;
      }
    }
    while (!this.stopped || this.queue.length > 0) {
      if (this.queue.length === 0) {
        if (this.cursor > yielded) {
          // Everything since the last event was filtered out: say how far we have seen.
          yielded = this.cursor;
          this.passed = this.cursor;
          yield [{ kind: 'bookmark', seq: this.cursor }];
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      // The queue itself goes to the reader, not a copy of it.
      const items = this.queue;
      this.queue = [];
      // Everything up to here is in `items` or was filtered out (pushes during the reveals
      // below queue after it).
      const upTo = this.cursor;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item.kind !== 'event') continue;
        yielded = item.event.seq;
        // Awaited only when there is something to read: an await per event per watch is what
        // a fan-out to hundreds of watches would otherwise spend its time on.
        if (this.mustReveal(item.event)) items[i] = { kind: 'event', event: await this.reveal(item.event) };
      }
      this.passed = upTo;
      yield items;
    }
    if (this.error) throw this.error;
  }

  /** The next page of the log, up to the hub's head (the log may be ahead of the stream). */
  private async fromLog(): Promise<Entry[]> {
    if (!this.log)
      throw new WatchGap(
        `events after ${this.cursor} have left the watch buffer (it starts at ${this.hub.oldest}) and there is no log to read them from`,
      );
    const page = await this.log.afterEncoded(this.cursor, this.pageSize);
    return page.filter((e) => e.seq <= this.hub.head).map((e) => ({ bus: BusEvent.fromLog(e) }));
  }

  private matches(entry: Entry): boolean {
    const filter = this.filter;
    if (!filter) return true;
    const matched = (entry.matched ??= new Map());
    let answer = matched.get(filter.text);
    if (answer === undefined) {
      answer = tokensMatch(filter.tokens, (entry.tokens ??= entry.bus.subject.split('.')));
      matched.set(filter.text, answer);
    }
    return answer;
  }

  /** Redacted secrets read back from the log, for watches entitled to them; anything else as is. */
  private mustReveal(event: StoredEvent): boolean {
    return this.request.revealSecrets === true && isRedactedKind(event);
  }

  private async reveal(event: StoredEvent): Promise<StoredEvent> {
    // watch() refuses revealSecrets to a hub without a log.
    return (await (this.log as EventReader).at(event.seq)) ?? event;
  }
}
