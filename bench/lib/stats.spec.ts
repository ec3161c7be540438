import { describe, expect, it } from '@jest/globals';

import { medianRatio, p99BySecond, percentile, summarize } from './stats.js';

describe('percentile and summarize', () => {
  it('take the nearest rank, as the benches report p50/p90/p99', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p90: 3, p99: 3, max: 3 });
  });

  it('summarize an empty sample as NaN, not as zero', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p99).toBeNaN();
  });
});

describe('medianRatio', () => {
  it('is the median of the paired ratios, not the ratio of the medians', () => {
    // Load halves both paths in round 2: each round's ratio is 0.8, the medians' ratio is not.
    const proxied = [800, 400, 820];
    const direct = [1000, 500, 1025];
    expect(medianRatio(proxied, direct)).toBeCloseTo(0.8, 10);
    expect(medianRatio([80, 40, 90, 30], [100, 100, 100, 100])).toBeCloseTo(0.6, 10);
  });

  it('leaves out pairs with no direct figure and rejects unpaired input', () => {
    expect(medianRatio([1, 2], [0, 4])).toBe(0.5);
    expect(medianRatio([1], [0])).toBeNaN();
    expect(() => medianRatio([1, 2], [1])).toThrow(RangeError);
  });
});

describe('p99BySecond', () => {
  it('takes the p99 of the writes started in each second from the start', () => {
    const sentAt = Float64Array.from([1000, 1500, 1999, 2000, 2400, 4100]);
    const latency = Float64Array.from([5, 7, 6, 50, 40, 9]);
    // Second 2 (3000–3999) had no write: NaN, not zero.
    expect(p99BySecond(sentAt, latency, 1000)).toEqual([7, 50, NaN, 9]);
  });
});
