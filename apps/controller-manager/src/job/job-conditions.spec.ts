import { describe, expect, it } from '@jest/globals';

import { ensureCondition } from './job-conditions.js';

// After upstream's TestEnsureJobConditions (job_controller_test.go).
describe('ensureJobConditionStatus', () => {
  const T1 = '2026-01-01T00:00:00Z';
  const T2 = '2026-01-01T00:01:00Z';

  it('adds a True condition but never a False one that was not there', () => {
    expect(ensureCondition(undefined, 'Suspended', 'False', 'JobResumed', 'Job resumed', T1)).toEqual([
      [],
      false,
    ]);
    const [added, changed] = ensureCondition([], 'Suspended', 'True', 'JobSuspended', 'Job suspended', T1);
    expect(changed).toBe(true);
    expect(added).toEqual([
      {
        type: 'Suspended',
        status: 'True',
        reason: 'JobSuspended',
        message: 'Job suspended',
        lastProbeTime: T1,
        lastTransitionTime: T1,
      },
    ]);
  });

  it('flips an existing condition with a new transition time, and leaves an equal one alone', () => {
    const [suspended] = ensureCondition([], 'Suspended', 'True', 'JobSuspended', 'Job suspended', T1);
    const [resumed, changed] = ensureCondition(
      suspended,
      'Suspended',
      'False',
      'JobResumed',
      'Job resumed',
      T2,
    );
    expect(changed).toBe(true);
    expect(resumed[0]).toMatchObject({ status: 'False', reason: 'JobResumed', lastTransitionTime: T2 });
    expect(ensureCondition(resumed, 'Suspended', 'False', 'JobResumed', 'Job resumed', T2)).toEqual([
      resumed,
      false,
    ]);
  });

  it('keeps the transition time when only the reason changes', () => {
    const [c] = ensureCondition([], 'FailureTarget', 'True', 'A', 'a', T1);
    const [next] = ensureCondition(c, 'FailureTarget', 'True', 'B', 'b', T2);
    expect(next[0]).toMatchObject({ reason: 'B', lastProbeTime: T2, lastTransitionTime: T1 });
  });
});
