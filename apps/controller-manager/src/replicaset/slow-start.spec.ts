import { describe, expect, it } from '@jest/globals';

import { slowStartBatch } from './slow-start.js';

// After TestSlowStartBatch (pkg/controller/replicaset/replica_set_test.go).
describe('slowStartBatch', () => {
  const run = async (count: number, failAfter: number) => {
    let calls = 0;
    const batches: number[] = [];
    const result = await slowStartBatch(
      count,
      1,
      () => {
        calls++;
        return calls > failAfter ? Promise.reject(new Error('fake error')) : Promise.resolve();
      },
      (n) => batches.push(n),
    );
    return { ...result, calls, batches };
  };

  it('runs all in batches of 1, 2, 4, ... when nothing fails', async () => {
    expect(await run(10, Infinity)).toEqual({ successes: 10, calls: 10, batches: [1, 2, 4, 3] });
  });

  it('stops after the first batch with an error (none succeed)', async () => {
    const r = await run(10, 0);
    expect(r).toMatchObject({ successes: 0, calls: 1, batches: [1] });
    expect(r.error?.message).toBe('fake error');
  });

  it('stops after the batch where some fail', async () => {
    // Batches 1, 2, 4: the 4-batch has calls 4..7, of which 6 and 7 fail.
    const r = await run(10, 5);
    expect(r).toMatchObject({ successes: 5, calls: 7, batches: [1, 2, 4] });
  });
});
