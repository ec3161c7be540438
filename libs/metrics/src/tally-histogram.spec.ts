import { describe, expect, it } from '@jest/globals';
import { Histogram, Registry } from 'prom-client';

import { REQUEST_BUCKETS } from './buckets.js';
import { TallyHistogram } from './tally-histogram.js';

describe('TallyHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: 'h_seconds',
      help: 'h',
      buckets: REQUEST_BUCKETS,
      registers: [theirs],
    });
    const tally = new TallyHistogram('h_seconds', 'h', REQUEST_BUCKETS, ours);
    // Before any observation: zero buckets, not nothing.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // On the bounds (le is inclusive), between them, below the first and past the last.
    const values = [0, ...REQUEST_BUCKETS, 0.0001, 0.0123, 0.75, 3, 59.9, 1e6];
    for (const v of values) {
      reference.observe(v);
      tally.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client throws on NaN; this counts nothing, and the caller goes on.
    tally.observe(NaN);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
