/** Heartbeats (Lease renewals, node status) and the rest (registration, pod writes). */
export type Lane = 'heartbeat' | 'work';

export interface RequestBudgetOptions {
  /** Requests in flight at once (pipelined over the client's keep-alive sockets). */
  maxInFlight: number;
  /** Requests started per second, at most (0 or absent: no rate limit, only the in-flight bound). */
  qps?: number;
}

/**
 * The per-process request budget of the simulated node agent: one process speaks for
 * thousands of nodes, so it bounds what it asks of the API server — at most `maxInFlight`
 * requests at once and `qps` a second (client-go's QPS for one client). When both lanes wait,
 * they take turns: heartbeats never wait behind a burst of pod writes, and 5,000 nodes' Lease
 * renewals (500 a second upstream) cannot starve the pods when the API server is slower than
 * that; a Lease renewed late still has most of its 40 s to run.
 */
export class RequestBudget {
  private inFlight = 0;
  private readonly lanes: Record<Lane, Fifo<() => void>> = { heartbeat: new Fifo(), work: new Fifo() };
  private nextStartAt = 0;
  private timer?: NodeJS.Timeout;
  private started = 0;
  private closed = false;
  private lastLane: Lane = 'work';
  private idle?: () => void;

  constructor(private readonly o: RequestBudgetOptions) {}

  /** Requests started so far (for the benchmark's figures). */
  get requests(): number {
    return this.started;
  }

  get queued(): number {
    return this.lanes.heartbeat.length + this.lanes.work.length;
  }

  run<T>(lane: Lane, request: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the request budget is closed'));
    return new Promise<T>((resolve, reject) => {
      this.lanes[lane].push(() => {
        if (this.closed) {
          this.inFlight--;
          this.pump();
          return reject(new Error('the request budget is closed'));
        }
        this.started++;
        request()
          .then(resolve, reject)
          .finally(() => {
            this.inFlight--;
            this.pump();
          });
      });
      this.pump();
    });
  }

  /** Refuses new and queued requests and resolves once those in flight have finished. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Queued requests fail at once (their callers see 'closed'); in-flight ones finish.
    while (this.queued > 0) {
      this.inFlight++;
      (this.lanes.heartbeat.shift() ?? this.lanes.work.shift())!();
    }
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    if (this.closed) {
      if (this.inFlight === 0) this.idle?.();
      return;
    }
    while (this.inFlight < this.o.maxInFlight && this.queued > 0) {
      if (this.o.qps) {
        const now = Date.now();
        if (now < this.nextStartAt) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, this.nextStartAt - now);
          return;
        }
        this.nextStartAt = Math.max(now, this.nextStartAt) + 1000 / this.o.qps;
      }
      const lane: Lane =
        this.lanes.heartbeat.length === 0
          ? 'work'
          : this.lanes.work.length === 0 || this.lastLane === 'work'
            ? 'heartbeat'
            : 'work';
      this.lastLane = lane;
      this.inFlight++;
      this.lanes[lane].shift()!();
    }
  }
}

/** A queue with O(1) take (Array#shift is O(n), and a registration burst queues thousands). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
