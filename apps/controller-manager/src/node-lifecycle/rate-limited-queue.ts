/**
 * flowcontrol's token bucket as TryAccept uses it (golang.org/x/time/rate): `qps` tokens a
 * second, at most `burst` saved, starting full. A rate of 0 never accepts
 * (NewFakeNeverRateLimiter).
 */
export class TokenBucketLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** scheduler.EvictionRateLimiterBurst. */
export const EVICTION_RATE_LIMITER_BURST = 1;

interface TimedValue {
  value: string;
  uid: string;
  addedAt: number;
  processAt: number;
}

/**
 * RateLimitedTimedQueue (pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go): the
 * nodes of one zone waiting to be tainted, taken in processAt order no faster than the
 * limiter allows. A value taken successfully stays "known" (not added again) until removed,
 * as UniqueQueue's RemoveFromQueue keeps it in the set.
 */
export class RateLimitedTimedQueue {
  private queue: TimedValue[] = [];
  private readonly known = new Set<string>();
  private limiter: TokenBucketLimiter;

  constructor(
    qps: number,
    private readonly now: () => number = Date.now,
  ) {
    this.limiter = new TokenBucketLimiter(qps, EVICTION_RATE_LIMITER_BURST, now);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** Adds a value to be processed now; false when it is already known. */
  add(value: string, uid: string): boolean {
    if (this.known.has(value)) return false;
    const now = this.now();
    this.known.add(value);
    this.push({ value, uid, addedAt: now, processAt: now });
    return true;
  }

  /** Forgets a value, queued or already processed, so that it may be added again. */
  remove(value: string): boolean {
    const had = this.known.delete(value);
    this.queue = this.queue.filter((v) => v.value !== value);
    return had;
  }

  /** Values waiting (for tests and metrics). */
  get waiting(): string[] {
    return this.queue.map((v) => v.value);
  }

  /**
   * Try: while the limiter gives a token and the head is due, runs `fn` on it; a value `fn`
   * refuses is tried again `retryMs` later, a value it accepts leaves the queue.
   */
  async try(fn: (value: string, uid: string) => Promise<{ done: boolean; retryMs?: number }>): Promise<void> {
    for (let head = this.queue[0]; head; head = this.queue[0]) {
      if (!this.limiter.tryAccept()) return;
      const now = this.now();
      if (now < head.processAt) return;
      const { done, retryMs = 0 } = await fn(head.value, head.uid);
      // fn ran asynchronously: the value may have been removed (and even re-added) meanwhile.
      if (this.queue[0] !== head) continue;
      this.queue.shift();
      if (!done) this.push({ ...head, processAt: now + retryMs + 1 });
    }
  }

  /**
   * SwapLimiter: a new rate; when the old limiter had no token to give, the new one starts
   * drained too (right for a burst of 1).
   */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucketLimiter(qps, EVICTION_RATE_LIMITER_BURST, this.now);
    if (qps > 0 && !this.limiter.tryAccept()) next.tryAccept();
    this.limiter = next;
  }

  private push(v: TimedValue): void {
    const i = this.queue.findIndex((x) => x.processAt > v.processAt);
    if (i < 0) this.queue.push(v);
    else this.queue.splice(i, 0, v);
  }
}
