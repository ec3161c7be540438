import { describe, expect, it } from '@jest/globals';

import { FailedPodsBackoff } from './failed-pods-backoff.js';

describe('FailedPodsBackoff (flowcontrol.Backoff as the DaemonSet controller uses it)', () => {
  it('lets the first failure through, then waits 1 s, 2 s, 4 s... per key, capped; long idle starts over', () => {
    const b = new FailedPodsBackoff(1000, 4000);
    expect(b.next('k', 0)).toBe(0);
    expect(b.next('k', 400)).toBe(600);
    expect(b.next('other', 400)).toBe(0);
    expect(b.next('k', 1000)).toBe(0);
    expect(b.next('k', 2500)).toBe(500);
    expect(b.next('k', 3000)).toBe(0);
    expect(b.next('k', 7000)).toBe(0);
    expect(b.next('k', 10_000)).toBe(1000);
    expect(b.next('k', 11_000)).toBe(0);
    // Idle beyond twice the maximum: back to the initial delay.
    expect(b.next('k', 30_000)).toBe(0);
    expect(b.next('k', 30_500)).toBe(500);
  });
});
