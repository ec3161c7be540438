import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { ExponentialBackoff, WorkQueue } from '@app/client';

import { CacheWaits } from './stale-cache.js';

describe('cache waits: a key whose sync found the cache behind', () => {
  beforeEach(() => void jest.useFakeTimers());
  afterEach(() => void jest.useRealTimers());

  it('is queued as soon as the informer delivers its output, not after its grown backoff', async () => {
    const queue = new WorkQueue<string>(new ExponentialBackoff(1000, 1_000_000));
    const waits = new CacheWaits(queue);
    // Ten stale syncs in a row: the backoff alone would now be 512 s.
    for (let i = 0; i < 10; i++) {
      queue.add('ns/svc');
      queue.done((await queue.get()) as string);
      waits.wait('ns/svc');
    }
    expect(queue.length).toBe(0);
    waits.delivered('ns/svc');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('ns/svc');
  });

  it('leaves keys alone that are not waiting, and still retries a waiting key whose output never comes', async () => {
    const queue = new WorkQueue<string>(new ExponentialBackoff(10, 1000));
    const waits = new CacheWaits(queue);
    waits.delivered('ns/other');
    expect(queue.length).toBe(0);
    waits.wait('ns/svc');
    expect(queue.length).toBe(0);
    jest.advanceTimersByTime(10);
    expect(queue.length).toBe(1);
    // Delivered once: a second delivery is not a second wake-up.
    queue.done((await queue.get()) as string);
    waits.delivered('ns/svc');
    expect(queue.length).toBe(1);
    queue.done((await queue.get()) as string);
    waits.delivered('ns/svc');
    expect(queue.length).toBe(0);
  });
});
