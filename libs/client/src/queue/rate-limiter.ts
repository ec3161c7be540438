/** How long to wait before an item is retried; `forget` when it succeeded. */
export interface RateLimiter<K> {
  when(item: K): number;
  forget(item: K): void;
  retries(item: K): number;
}

/**
 * Per-item exponential backoff: base·2^failures, capped (client-go's
 * ItemExponentialFailureRateLimiter; controllers use 5 ms → 1000 s, the scheduler 1 s → 10 s).
 */
export class ExponentialBackoff<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  when(item: K): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    // 2^n overflows to Infinity long before n is a problem; the cap keeps it finite.
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(item: K): void {
    this.failures.delete(item);
  }

  retries(item: K): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket: `qps` retries a second after a burst of `burst`, whatever the
 * item (client-go's BucketRateLimiter), so a mass failure does not become a retry storm.
 */
export class TokenBucket<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Reserves a token: none left means a wait until the bucket has refilled one (tokens go negative). */
  when(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(): void {}

  retries(): number {
    return 0;
  }
}

/** The longest of several limiters' waits (client-go's MaxOfRateLimiter). */
export class MaxOf<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(item: K): number {
    return Math.max(...this.limiters.map((l) => l.when(item)));
  }

  forget(item: K): void {
    for (const l of this.limiters) l.forget(item);
  }

  retries(item: K): number {
    return Math.max(...this.limiters.map((l) => l.retries(item)));
  }
}

/** What kube-controller-manager's controllers use: 5 ms → 1000 s per item, 10/s overall after a burst of 100. */
export function controllerRateLimiter<K>(): RateLimiter<K> {
  return new MaxOf<K>(new ExponentialBackoff<K>(5, 1_000_000), new TokenBucket<K>(10, 100));
}
