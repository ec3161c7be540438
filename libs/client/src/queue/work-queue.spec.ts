import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { ExponentialBackoff, MaxOf, TokenBucket } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

describe('work queue', () => {
  beforeEach(() => void jest.useFakeTimers());
  afterEach(() => void jest.useRealTimers());

  it('queues an item once however often it is added, in first-added order', async () => {
    const q = new WorkQueue<string>();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.length).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
  });

  it('never hands one item to two workers; a change during processing requeues it on done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first as string);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('wakes a waiting worker when an item arrives', async () => {
    const q = new WorkQueue<string>();
    const next = q.get();
    q.add('x');
    await expect(next).resolves.toBe('x');
  });

  it('retries with per-item exponential backoff and forgets on success', async () => {
    const q = new WorkQueue<string>(new ExponentialBackoff(10, 1000));
    const seen: string[] = [];
    const drain = async () => {
      while (q.length) {
        const k = (await q.get()) as string;
        seen.push(k);
        q.done(k);
      }
    };
    q.addRateLimited('a'); // 10 ms
    jest.advanceTimersByTime(9);
    await drain();
    expect(seen).toEqual([]);
    jest.advanceTimersByTime(1);
    await drain();
    expect(seen).toEqual(['a']);
    q.addRateLimited('a'); // 20 ms
    jest.advanceTimersByTime(19);
    await drain();
    expect(seen).toEqual(['a']);
    jest.advanceTimersByTime(1);
    await drain();
    expect(seen).toEqual(['a', 'a']);
    expect(q.retries('a')).toBe(2);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
  });

  it('addAfter keeps the earliest time asked for', () => {
    const q = new WorkQueue<string>();
    q.addAfter('a', 100);
    q.addAfter('a', 500);
    q.addAfter('a', 50);
    jest.advanceTimersByTime(50);
    expect(q.length).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(q.length).toBe(1);
  });

  it('shuts down: waiting workers get undefined, new items are refused, in-flight work drains', async () => {
    const q = new WorkQueue<string>();
    q.add('busy');
    const busy = (await q.get()) as string;
    const idle = q.get();
    q.addAfter('later', 100);
    let drained = false;
    const shutdown = q.shutdownAndDrain().then(() => (drained = true));
    await expect(idle).resolves.toBeUndefined();
    q.add('refused');
    jest.advanceTimersByTime(200);
    expect(q.length).toBe(0);
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(busy);
    await shutdown;
    expect(drained).toBe(true);
    await expect(q.get()).resolves.toBeUndefined();
  });
});

describe('rate limiters', () => {
  it('exponential backoff doubles up to its cap', () => {
    const b = new ExponentialBackoff<string>(5, 1000);
    expect(Array.from({ length: 10 }, () => b.when('x'))).toEqual([
      5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000,
    ]);
    expect(b.when('y')).toBe(5);
  });

  it('a token bucket lets a burst through, then spaces retries at its rate', () => {
    let now = 0;
    const bucket = new TokenBucket<string>(10, 3, () => now);
    expect([bucket.when(), bucket.when(), bucket.when()]).toEqual([0, 0, 0]);
    expect(bucket.when()).toBe(100);
    expect(bucket.when()).toBe(200);
    now = 10_000;
    expect(bucket.when()).toBe(0);
  });

  it('the controller limiter waits for the longer of the two', () => {
    const now = 0;
    const limiter = new MaxOf<string>(new ExponentialBackoff(5, 1000), new TokenBucket(10, 1, () => now));
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('b')).toBe(100);
    expect(limiter.retries('a')).toBe(1);
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
  });
});
