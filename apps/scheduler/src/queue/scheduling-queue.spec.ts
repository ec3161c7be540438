import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { type KubeObject } from '../framework/types.js';
import { Heap } from './heap.js';
import { type QueuedPod, SchedulingQueue } from './scheduling-queue.js';

const pod = (name: string, gates?: string[]): KubeObject => ({
  metadata: { name, namespace: 'ns' },
  spec: gates ? { schedulingGates: gates.map((g) => ({ name: g })) } : {},
});

describe('scheduling queue', () => {
  let now = 0;
  let q: SchedulingQueue;
  const advance = (ms: number) => {
    now += ms;
    jest.advanceTimersByTime(ms);
  };
  const popNow = async () => (await q.pop()) as QueuedPod;
  const add = (name: string, priority = 0) => q.add(`ns/${name}`, pod(name), priority);

  beforeEach(() => {
    jest.useFakeTimers();
    now = 1000;
    q = new SchedulingQueue({
      now: () => now,
      initialBackoffMs: 1000,
      maxBackoffMs: 10_000,
      maxUnschedulableMs: 60_000,
    });
  });
  afterEach(() => {
    q.close();
    jest.useRealTimers();
  });

  it('pops the highest priority first, then the longest waiting', async () => {
    add('low', 0);
    advance(1);
    add('high', 100);
    advance(1);
    add('low-later', 0);
    advance(1);
    add('high-later', 100);
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await popNow()).key);
    expect(order).toEqual(['ns/high', 'ns/high-later', 'ns/low', 'ns/low-later']);
  });

  it('hands a pod to a waiting worker as it arrives', async () => {
    const next = q.pop();
    add('a');
    await expect(next).resolves.toMatchObject({ key: 'ns/a' });
  });

  it('parks an unschedulable pod until a cluster change, then retries it after its backoff', async () => {
    add('a');
    const a = await popNow();
    q.unschedulableAfterAttempt(a);
    expect(q.pending).toMatchObject({ active: 0, unschedulable: 1 });
    advance(200);
    q.moveAllToActiveOrBackoff();
    // 200 ms after its first failure: still inside its 1 s backoff.
    expect(q.pending).toMatchObject({ active: 0, backoff: 1, unschedulable: 0 });
    advance(800);
    expect(q.pending).toMatchObject({ active: 1, backoff: 0 });
    expect((await popNow()).attempts).toBe(1);
  });

  it('sends a pod to backoff, not to the parked set, when a change came during its attempt', async () => {
    add('a');
    const a = await popNow();
    q.moveAllToActiveOrBackoff(); // a node was added while `a` was being scheduled
    q.unschedulableAfterAttempt(a);
    expect(q.pending).toMatchObject({ backoff: 1, unschedulable: 0 });
    advance(1000);
    expect(q.pending.active).toBe(1);
  });

  it('backs off 1 s, 2 s, 4 s ... up to 10 s after errors', async () => {
    add('a');
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await popNow();
      q.errorAfterAttempt(a);
      let waited = 0;
      while (q.pending.active === 0) {
        advance(100);
        waited += 100;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('retries a parked pod at once when it changes, and forgets one deleted mid-attempt', async () => {
    add('a');
    const a = await popNow();
    q.unschedulableAfterAttempt(a);
    advance(5000);
    q.update('ns/a', pod('a'), 5);
    expect(q.pending).toMatchObject({ active: 1, unschedulable: 0 });
    const again = await popNow();
    expect(again.priority).toBe(5);
    q.delete('ns/a');
    q.errorAfterAttempt(again);
    expect(q.has('ns/a')).toBe(false);
    expect(q.pending).toEqual({ active: 0, backoff: 0, unschedulable: 0, gated: 0 });
  });

  it('settles attempts by identity: a stale attempt of a recreated pod does not touch the new one', async () => {
    add('a');
    const old = await popNow();
    q.delete('ns/a');
    add('a');
    const fresh = await popNow();
    q.errorAfterAttempt(old);
    expect(q.has('ns/a')).toBe(true);
    expect(q.pending.backoff).toBe(0);
    q.unschedulableAfterAttempt(fresh);
    expect(q.pending.unschedulable).toBe(1);
  });

  it('keeps a parked pod parked on a change that cannot help it', async () => {
    add('a');
    q.unschedulableAfterAttempt(await popNow());
    q.update('ns/a', pod('a'), 0, { retry: false });
    expect(q.pending).toMatchObject({ unschedulable: 1, active: 0 });
  });

  it('keeps gated pods out until their gates are removed', async () => {
    q.add('ns/g', pod('g', ['wait']), 0);
    expect(q.pending).toMatchObject({ active: 0, gated: 1 });
    q.update('ns/g', pod('g', ['wait', 'more']), 0);
    expect(q.pending.gated).toBe(1);
    q.update('ns/g', pod('g'), 0);
    expect((await popNow()).key).toBe('ns/g');
  });

  it('retries parked pods after the longest wait even without a cluster change', async () => {
    add('a');
    q.unschedulableAfterAttempt(await popNow());
    advance(59_000);
    expect(q.pending.unschedulable).toBe(1);
    advance(60_000);
    expect(q.pending).toMatchObject({ unschedulable: 0, active: 1 });
  });

  it('gives waiting workers undefined when closed', async () => {
    const next = q.pop();
    q.close();
    await expect(next).resolves.toBeUndefined();
  });
});

describe('heap', () => {
  it('orders, replaces and removes by key', () => {
    const h = new Heap<{ k: string; v: number }>(
      (x) => x.k,
      (a, b) => a.v < b.v,
    );
    for (const [k, v] of [
      ['a', 5],
      ['b', 3],
      ['c', 8],
      ['d', 1],
    ] as const)
      h.push({ k, v });
    h.push({ k: 'c', v: 0 });
    expect(h.delete('b')?.v).toBe(3);
    const out = [];
    while (h.size) out.push(h.pop()?.k);
    expect(out).toEqual(['c', 'd', 'a']);
  });
});
