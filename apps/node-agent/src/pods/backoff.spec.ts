import { describe, expect, it } from '@jest/globals';

import { Backoff, goDuration } from './backoff.js';

// After client-go's flowcontrol backoff_test.go and the kubelet's doBackOff use of it.
describe('restart backoff (flowcontrol.Backoff)', () => {
  const make = () => {
    let now = 0;
    const b = new Backoff({ baseMs: 10_000, capMs: 300_000, resetAfterMs: 600_000 }, () => now);
    return { b, at: (t: number) => (now = t) };
  };

  it('no entry: not in backoff; each failure doubles the wait up to the cap', () => {
    const { b, at } = make();
    expect(b.isInBackOffSince('c', 0)).toBe(false);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      at(i * 1000);
      b.next('c', i * 1000);
      seen.push(b.get('c'));
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('is in backoff until the wait since the container finished is over', () => {
    const { b, at } = make();
    b.next('c', 0);
    at(5_000);
    expect(b.isInBackOffSince('c', 0)).toBe(true);
    expect(b.remaining('c', 0)).toBe(5_000);
    at(10_000);
    expect(b.isInBackOffSince('c', 0)).toBe(false);
    expect(b.remaining('c', 0)).toBe(0);
  });

  it('starts afresh once the event comes more than resetAfterMs after the last failure (ran 10 minutes)', () => {
    const { b, at } = make();
    b.next('c', 0);
    b.next('c', 0);
    expect(b.get('c')).toBe(20_000);
    at(700_000);
    expect(b.isInBackOffSince('c', 700_000)).toBe(false);
    b.next('c', 700_000);
    expect(b.get('c')).toBe(10_000);
  });

  it('keys are independent; a pod’s keys are reset together', () => {
    const { b } = make();
    b.next('pod1/a', 0);
    b.next('pod1/b', 0);
    b.next('pod2/a', 0);
    b.resetPrefix('pod1/');
    expect([b.get('pod1/a'), b.get('pod1/b'), b.get('pod2/a')]).toEqual([0, 0, 10_000]);
  });

  it('measures image pull backoff from the last failure (IsInBackOffSinceUpdate)', () => {
    const { b, at } = make();
    at(1_000);
    b.next('img', 1_000);
    expect(b.isInBackOffSinceUpdate('img', 5_000)).toBe(true);
    expect(b.isInBackOffSinceUpdate('img', 11_000)).toBe(false);
    at(4_000);
    expect(b.remainingSinceUpdate('img')).toBe(7_000);
  });
});

describe('goDuration (Go time.Duration.String)', () => {
  it.each([
    [0, '0s'],
    [200, '200ms'],
    [1_600, '1.6s'],
    [10_000, '10s'],
    [40_000, '40s'],
    [80_000, '1m20s'],
    [160_000, '2m40s'],
    [300_000, '5m0s'],
    [3_600_000, '1h0m0s'],
  ])('%i ms is %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});
