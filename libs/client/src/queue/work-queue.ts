import { controllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** What a work queue reports, as client-go's workqueue MetricsProvider does (per queue name). */
export interface WorkQueueMetrics {
  /** An item became dirty: workqueue_adds_total, workqueue_depth up. */
  added(): void;
  /** A worker took an item after it waited `waitedMs`: workqueue_depth down, workqueue_queue_duration_seconds. */
  taken(waitedMs: number): void;
  /** A worker finished an item it held `workedMs`: workqueue_work_duration_seconds. */
  finished(workedMs: number): void;
  /** An item was queued again after its backoff: workqueue_retries_total. */
  retried(): void;
}

export interface WorkQueueOptions {
  /** The queue's name in its metrics (client-go's QueueConfig.Name: "replicaset", "deployment"...). */
  name?: string;
  metrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The work queue of a reconcile loop, with client-go's guarantees:
 * - an item waiting is queued once however often it is added (de-duplication);
 * - an item is never processed by two workers at once: added while in process, it is queued
 *   again when its worker calls `done`, so the latest change is never lost;
 * - `addRateLimited` retries an item after its own exponential backoff; `forget` resets it;
 * - `addAfter` queues an item later, once, at the earliest time asked for.
 * Items are keys (namespace/name), not objects: the worker reads the current state from its
 * cache, so a burst of changes to one object costs one reconcile.
 */
export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly getters: ((item: K | undefined) => void)[] = [];
  private drained?: () => void;
  private shuttingDown = false;
  private readonly metrics?: WorkQueueMetrics;
  /** When each dirty item was added, and when each item in process was taken (with metrics only). */
  private readonly addedAt = new Map<K, number>();
  private readonly takenAt = new Map<K, number>();

  constructor(
    private readonly limiter: RateLimiter<K> = controllerRateLimiter<K>(),
    options: WorkQueueOptions = {},
  ) {
    if (options.metrics && options.name) this.metrics = options.metrics(options.name);
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  get shutDown(): boolean {
    return this.shuttingDown;
  }

  add(item: K): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.metrics) {
      this.metrics.added();
      this.addedAt.set(item, performance.now());
    }
    if (this.processing.has(item)) return;
    this.push(item);
  }

  /** Queues `item` after `delayMs`; a second call for a waiting item only ever brings it forward. */
  addAfter(item: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(item);
    const at = Date.now() + delayMs;
    const pending = this.waiting.get(item);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, delayMs);
    // A waiting retry must not keep a process alive that is otherwise done.
    timer.unref();
    this.waiting.set(item, { at, timer });
  }

  /** Queues `item` again after its backoff: the reconcile failed or must look again. */
  addRateLimited(item: K): void {
    this.metrics?.retried();
    this.addAfter(item, this.limiter.when(item));
  }

  /** The item succeeded: its next failure starts the backoff afresh. */
  forget(item: K): void {
    this.limiter.forget(item);
  }

  retries(item: K): number {
    return this.limiter.retries(item);
  }

  /** The next item to process, or undefined once the queue is shut down and empty of work. */
  get(): Promise<K | undefined> {
    if (this.length > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The worker has finished `item`; if it changed meanwhile, it is queued again. */
  done(item: K): void {
    this.processing.delete(item);
    if (this.metrics) {
      this.metrics.finished(performance.now() - (this.takenAt.get(item) ?? performance.now()));
      this.takenAt.delete(item);
    }
    if (this.dirty.has(item) && !this.shuttingDown) this.push(item);
    if (this.shuttingDown && this.processing.size === 0) this.drained?.();
  }

  /** Stops handing out items; waiting workers get undefined. Resolves when in-flight items are done. */
  shutdownAndDrain(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  private push(item: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(item);
      this.processing.add(item);
      this.measureTaken(item);
      getter(item);
      return;
    }
    this.queue.push(item);
  }

  private take(): K {
    const item = this.queue[this.head++];
    // Compact now and then rather than shift() on every take (O(n) per take on a long queue).
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.dirty.delete(item);
    this.processing.add(item);
    this.measureTaken(item);
    return item;
  }

  private measureTaken(item: K): void {
    if (!this.metrics) return;
    const now = performance.now();
    this.metrics.taken(now - (this.addedAt.get(item) ?? now));
    this.addedAt.delete(item);
    this.takenAt.set(item, now);
  }
}
