import { describe, expect, it } from '@jest/globals';

import { addedAfter, measureChange, type Probe, propagationDelay, removedAfter } from './propagation.js';

/** Probes every 10 ms from t=0, answering in 1 ms, with the given answers. */
function log(answers: (string | undefined)[], start = 0): Probe[] {
  return answers.map((answer, i) => ({
    sentAt: start + i * 10,
    doneAt: start + i * 10 + 1,
    ...(answer === undefined ? { error: 'ECONNREFUSED' } : { answer }),
  }));
}

const confirm = { probes: 4, ms: 30 };

describe('addedAfter', () => {
  it('is the completion of the first probe after the change that reached the endpoint', () => {
    expect(addedAfter(log(['a', 'a', 'a', 'b', 'a']), 5, 'b')).toBe(26);
  });

  it('ignores answers from before the change and is undefined until the endpoint answers', () => {
    const probes = log(['b', 'a', 'a']);
    expect(addedAfter(probes, 5, 'b')).toBeUndefined();
  });
});

describe('removedAfter', () => {
  it('is the completion of the last probe that still reached the endpoint, once confirmed', () => {
    // b answered at 20 (done 21); then 5 probes over 50 ms saw only a.
    const probes = log(['a', 'b', 'b', 'a', 'a', 'a', 'a', 'a']);
    expect(removedAfter(probes, 5, 'b', confirm)).toBe(16);
  });

  it('is 0 when no probe after the change reached the endpoint', () => {
    expect(removedAfter(log(['a', 'a', 'a', 'a', 'a']), 0, 'b', confirm)).toBe(0);
  });

  it('is undefined while too few probes, or too short a time, have missed the endpoint', () => {
    // Round robin over two endpoints misses b every other probe while it is still routed.
    expect(removedAfter(log(['b', 'a', 'b', 'a', 'a']), 0, 'b', confirm)).toBeUndefined();
    expect(removedAfter(log(['b', 'a', 'a', 'a', 'a']), 0, 'b', { probes: 4, ms: 100 })).toBeUndefined();
  });

  it('does not count failed probes as confirmation', () => {
    const probes = log(['b', undefined, undefined, undefined, undefined, 'a']);
    expect(removedAfter(probes, 0, 'b', confirm)).toBeUndefined();
  });
});

describe('propagationDelay', () => {
  it('picks the judgement by the kind of change', () => {
    const probes = log(['a', 'b', 'a', 'a', 'a', 'a']);
    expect(propagationDelay('add', probes, 0, 'b', confirm)).toBe(11);
    expect(propagationDelay('remove', probes, 0, 'b', confirm)).toBe(11);
  });
});

describe('measureChange', () => {
  it('probes until the added endpoint answers and reports the delay from the change', async () => {
    let routed = ['a'];
    let turn = 0;
    const result = await measureChange({
      kind: 'add',
      endpoint: 'b',
      change: async () => {
        setTimeout(() => (routed = ['a', 'b']), 20);
      },
      probe: async () => routed[turn++ % routed.length],
      intervalMs: 1,
      timeoutMs: 5000,
      confirm,
    });
    expect(result.delayMs).toBeGreaterThanOrEqual(15);
    expect(result.probes.at(-1)?.answer).toBe('b');
  });

  it('gives up after the timeout with no delay when the change never shows', async () => {
    const result = await measureChange({
      kind: 'remove',
      endpoint: 'b',
      change: async () => undefined,
      probe: async () => 'b',
      intervalMs: 5,
      timeoutMs: 50,
      confirm,
    });
    expect(result.delayMs).toBeUndefined();
    expect(result.probes.length).toBeGreaterThan(1);
  });

  it('rethrows a failed change after probing', async () => {
    await expect(
      measureChange({
        kind: 'add',
        endpoint: 'b',
        change: () => Promise.reject(new Error('HTTP 409')),
        probe: async () => 'b',
        intervalMs: 0,
        timeoutMs: 100,
        confirm,
      }),
    ).rejects.toThrow('HTTP 409');
  });
});
