import { type NatsConnection } from '@nats-io/transport-node';

import { type EventReader, type StoredEvent } from '@app/event-store';

import { decodeEvent, isRedactedKind } from './bus-event.js';
import { type EventStreamOptions } from './event-stream.js';
import { eventSubject, subjectMatches } from './subjects.js';
import { EventWatch, type WatchItem } from './watch.js';

export interface WatchHubOptions {
  nats: NatsConnection;
  log: EventReader;
  stream?: EventStreamOptions;
  /** Recent events kept in memory for watches that start a little behind. Default 10,000. */
  bufferSize?: number;
  /** Items a watch may have waiting before it is ended as too slow. Default 10,000. */
  maxQueue?: number;
  /** Log page size for watches that start before the buffer. Default 500. */
  pageSize?: number;
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
  event: StoredEvent;
  subject: string;
  /**
   * Filters already matched against this subject, and their answers: the watches of one
   * list (hundreds of kubectl or informer watches of a kind) share a filter, so each event
   * is matched once per distinct filter, not once per watch.
   */
  matched?: Map<string, boolean>;
}

/** One watch of the hub: an async iterable of items, and where it has got to. */
export interface HubWatch extends AsyncIterable<WatchItem> {
  /** The last seq this watch has passed, delivered or filtered out. */
  readonly seen: number;
  /** The items a burst at a time (the iterator gives them one by one). */
  batches(): AsyncIterable<WatchItem[]>;
  stop(): void;
}

/**
 * Many watches in one process over one stream consumer, as the kube-apiserver serves many
 * watches from one etcd watch through its watch cache: one `EventWatch` (which keeps etcd's
 * guarantees) feeds a ring of recent events; each watch catches up from the log or the ring,
 * then goes live in the same tick it catches up (no event can slip between), and filters on
 * its own. A reader that falls `maxQueue` items behind is ended rather than buffered forever.
 */
export class WatchHub {
  private source?: EventWatch;
  private running?: Promise<void>;
  private readonly ring: (Entry | undefined)[];
  private first = 1;
  private last = 0;
  private readonly live = new Set<Subscription>();
  private failure?: Error;

  constructor(private readonly options: WatchHubOptions) {
    this.ring = new Array<Entry | undefined>(options.bufferSize ?? 10_000);
  }

  /** Starts following the stream from the log's current head. */
  async start(): Promise<void> {
    const { seq: head } = await this.options.log.head();
    this.first = head + 1;
    this.last = head;
    this.source = new EventWatch({
      nats: this.options.nats,
      log: this.options.log,
      stream: this.options.stream,
      after: head,
    });
    this.running = this.follow(this.source);
  }

  async stop(): Promise<void> {
    this.source?.stop();
    await this.running;
    for (const s of this.live) s.end();
  }

  /** The last seq the hub holds. */
  get head(): number {
    return this.last;
  }

  watch(request: WatchRequest): HubWatch {
    if (this.failure) throw this.failure;
    return new Subscription(this, request, {
      log: this.options.log,
      pageSize: this.options.pageSize ?? 500,
      maxQueue: this.options.maxQueue ?? 10_000,
    });
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
  }

  private async follow(source: EventWatch): Promise<void> {
    try {
      for await (const item of source) {
        if (item.kind !== 'event') continue;
        const entry = { event: item.event, subject: eventSubject(item.event) };
        this.ring[entry.event.seq % this.ring.length] = entry;
        this.last = entry.event.seq;
        this.first = Math.max(this.first, this.last - this.ring.length + 1);
        for (const sub of this.live) sub.push(entry);
      }
    } catch (e) {
      this.failure = e as Error;
      for (const s of this.live) s.fail(this.failure);
    }
  }
}

class Subscription implements HubWatch {
  cursor: number;
  private queue: WatchItem[] = [];
  private wake?: () => void;
  private stopped = false;
  private error?: Error;
  private bookmarkDue = false;

  private readonly log: EventReader;
  private readonly pageSize: number;
  private readonly maxQueue: number;

  constructor(
    private readonly hub: WatchHub,
    private readonly request: WatchRequest,
    limits: { log: EventReader; pageSize: number; maxQueue: number },
  ) {
    this.cursor = request.after;
    ({ log: this.log, pageSize: this.pageSize, maxQueue: this.maxQueue } = limits);
  }

  get seen(): number {
    return this.cursor;
  }

  stop(): void {
    this.end();
  }

  end(): void {
    this.stopped = true;
    this.hub.leave(this);
    this.wake?.();
  }

  fail(error: Error): void {
    this.error = error;
    this.end();
  }

  /** A live event from the hub, in order (the hub pushes every seq once). */
  push(entry: Entry): void {
    if (entry.event.seq <= this.cursor) return;
    const matches = this.matches(entry);
    if (matches && this.queue.length >= this.maxQueue) {
      // `seen` stays before this event, so a watch resumed from it gets this event first.
      return this.fail(
        new WatchTooSlow(`watch fell ${this.queue.length} events behind at seq ${this.cursor}`),
      );
    }
    this.cursor = entry.event.seq;
    if (!matches) {
      // Let the reader see its progress (a bookmark) once the burst is over, not per event.
      if (!this.bookmarkDue) {
        this.bookmarkDue = true;
        setImmediate(() => {
          this.bookmarkDue = false;
          this.wake?.();
        });
      }
      return;
    }
    this.queue.push({ kind: 'event', event: entry.event });
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    for await (const batch of this.batches()) yield* batch;
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
        this.cursor = entry.event.seq;
        if (!this.matches(entry)) continue;
        const event = this.mustReveal(entry.event) ? await this.reveal(entry.event) : entry.event;
        out.push({ kind: 'event', event });
        yielded = this.cursor;
      }
      if (out.length > 0) yield out;
      if (this.stopped) return;
    }
    while (!this.stopped || this.queue.length > 0) {
      if (this.queue.length === 0) {
        if (this.cursor > yielded) {
          // Everything since the last event was filtered out: say how far we have seen.
          yielded = this.cursor;
          yield [{ kind: 'bookmark', seq: this.cursor }];
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const items = this.queue;
      this.queue = [];
      const out: WatchItem[] = [];
      for (const item of items) {
        if (item.kind !== 'event') continue;
        yielded = item.event.seq;
        // Awaited only when there is something to read: an await per event per watch is what
        // a fan-out to hundreds of watches would otherwise spend its time on.
        out.push(
          this.mustReveal(item.event) ? { kind: 'event', event: await this.reveal(item.event) } : item,
        );
      }
      yield out;
    }
    if (this.error) throw this.error;
  }

  /** The next page of the log, up to the hub's head (the log may be ahead of the stream). */
  private async fromLog(): Promise<Entry[]> {
    const page = await this.log.afterEncoded(this.cursor, this.pageSize, true);
    return page
      .filter((e) => e.seq <= this.hub.head)
      .map((e) => {
        const event = decodeEvent(e);
        return { event, subject: eventSubject(event) };
      });
  }

  private matches(entry: Entry): boolean {
    const filter = this.request.filter;
    if (!filter) return true;
    const matched = (entry.matched ??= new Map());
    let answer = matched.get(filter);
    if (answer === undefined) matched.set(filter, (answer = subjectMatches(filter, entry.subject)));
    return answer;
  }

  /** Redacted secrets read back from the log, for watches entitled to them; anything else as is. */
  private mustReveal(event: StoredEvent): boolean {
    return this.request.revealSecrets === true && isRedactedKind(event);
  }

  private async reveal(event: StoredEvent): Promise<StoredEvent> {
    return (await this.log.at(event.seq)) ?? event;
  }
}
