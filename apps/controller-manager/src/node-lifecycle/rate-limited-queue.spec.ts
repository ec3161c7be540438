import { describe, expect, it } from '@jest/globals';

import { RateLimitedTimedQueue, TokenBucketLimiter } from './rate-limited-queue.js';

// After pkg/controller/nodelifecycle/scheduler/rate_limited_queue_test.go, on a fake clock.
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
const takeAll = async (q: RateLimitedTimedQueue) => {
  const taken: string[] = [];
  await q.try(async (value) => {
    taken.push(value);
    return { done: true };
  });
  return taken;
};

describe('TokenBucketLimiter', () => {
  it('starts with its burst, refills at qps and never accepts at qps 0', () => {
    const c = clock();
    const l = new TokenBucketLimiter(2, 1, c.now);
    expect(l.tryAccept()).toBe(true);
    expect(l.tryAccept()).toBe(false);
    c.advance(499);
    expect(l.tryAccept()).toBe(false);
    c.advance(1);
    expect(l.tryAccept()).toBe(true);
    expect(new TokenBucketLimiter(0, 1, c.now).tryAccept()).toBe(false);
  });
});

describe('RateLimitedTimedQueue', () => {
  it('takes values in order, as fast as the limiter allows (TestTry)', async () => {
    const c = clock();
    const q = new RateLimitedTimedQueue(1000, c.now);
    for (const v of ['first', 'second', 'third']) q.add(v, 'uid');
    // One token (burst 1): one value per Try, the next once a token is back.
    expect(await takeAll(q)).toEqual(['first']);
    c.advance(1);
    expect(await takeAll(q)).toEqual(['second']);
    c.advance(1);
    expect(await takeAll(q)).toEqual(['third']);
    expect(q.waiting).toEqual([]);
  });

  it('does not add a value twice, not even once it was processed, until it is removed (TestAddAfterTry)', async () => {
    const c = clock();
    const q = new RateLimitedTimedQueue(1000, c.now);
    expect(q.add('a', 'uid')).toBe(true);
    expect(q.add('a', 'uid')).toBe(false);
    expect(await takeAll(q)).toEqual(['a']);
    expect(q.add('a', 'uid')).toBe(false);
    expect(q.remove('a')).toBe(true);
    expect(q.add('a', 'uid')).toBe(true);
  });

  it('forgets removed values (TestDel)', async () => {
    const c = clock();
    const q = new RateLimitedTimedQueue(1000, c.now);
    for (const v of ['first', 'second', 'third']) q.add(v, 'uid');
    q.remove('first');
    expect(q.waiting).toEqual(['second', 'third']);
  });

  it('retries a refused value after its wait, behind values due sooner (TestTryOrdering)', async () => {
    const c = clock();
    const q = new RateLimitedTimedQueue(1_000_000, c.now);
    for (const v of ['first', 'second', 'third']) q.add(v, 'uid');
    const order: string[] = [];
    let refused = false;
    const fn = async (value: string) => {
      c.advance(1);
      order.push(value);
      if (value === 'first' && !refused) {
        refused = true;
        return { done: false, retryMs: 10 };
      }
      return { done: true };
    };
    await q.try(fn);
    c.advance(20);
    await q.try(fn);
    expect(order).toEqual(['first', 'second', 'third', 'first']);
  });

  it('stops at qps 0 and, swapped back, starts drained when the old limiter was (TestSwapLimiter)', async () => {
    const c = clock();
    const q = new RateLimitedTimedQueue(1, c.now);
    q.add('a', 'uid');
    q.add('b', 'uid');
    expect(await takeAll(q)).toEqual(['a']);
    q.swapLimiter(0);
    c.advance(5_000);
    expect(await takeAll(q)).toEqual([]);
    // Upstream drains the new limiter when the old one has no token, and a never-limiter has none.
    q.swapLimiter(0.5);
    expect(q.qps).toBe(0.5);
    expect(await takeAll(q)).toEqual([]);
    c.advance(2_000);
    expect(await takeAll(q)).toEqual(['b']);

    const drained = new RateLimitedTimedQueue(1, c.now);
    drained.add('x', 'uid');
    drained.add('y', 'uid');
    expect(await takeAll(drained)).toEqual(['x']);
    drained.swapLimiter(2);
    expect(await takeAll(drained)).toEqual([]);
    c.advance(500);
    expect(await takeAll(drained)).toEqual(['y']);
  });
});
