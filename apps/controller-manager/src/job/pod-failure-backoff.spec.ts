import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import { nextBackoffRecord, pastBackoffLimitOnFailure, remainingBackoffMs } from './pod-failure-backoff.js';

const finished = (at: number): Pod => ({
  metadata: { name: 'p' },
  status: {
    containerStatuses: [{ state: { terminated: { finishedAt: new Date(at).toISOString() } } }] as never,
  },
});
const restarted = (n: number): Pod => ({
  metadata: { name: 'p' },
  status: { containerStatuses: [{ restartCount: n }] },
});

// Cases after upstream's backoff_utils_test.go and TestPastBackoffLimitOnFailure.
describe('Job pod failure back-off', () => {
  it('doubles from the base per failure since the last success, capped, counted from the last failure', () => {
    const r = { failuresAfterLastSuccess: 3, lastFailureTime: 1000 };
    expect(remainingBackoffMs(r, 1000, 10_000, 600_000)).toBe(40_000);
    expect(remainingBackoffMs(r, 31_000, 10_000, 600_000)).toBe(10_000);
    expect(remainingBackoffMs(r, 60_000, 10_000, 600_000)).toBe(0);
    expect(remainingBackoffMs({ failuresAfterLastSuccess: 20, lastFailureTime: 0 }, 0, 10_000, 600_000)).toBe(
      600_000,
    );
    expect(remainingBackoffMs({ failuresAfterLastSuccess: 0 }, 0, 10_000, 600_000)).toBe(0);
  });

  it('adds failures, and a success resets to the failures after it', () => {
    const empty = { failuresAfterLastSuccess: 0 };
    const one = nextBackoffRecord(empty, [], [finished(5000)], 9000);
    expect(one).toEqual({ failuresAfterLastSuccess: 1, lastFailureTime: 5000 });
    expect(nextBackoffRecord(one, [], [finished(6000), finished(7000)], 9000)).toEqual({
      failuresAfterLastSuccess: 3,
      lastFailureTime: 7000,
    });
    expect(nextBackoffRecord(one, [finished(8000)], [finished(7000)], 9000)).toEqual({
      failuresAfterLastSuccess: 0,
    });
    expect(nextBackoffRecord(one, [finished(6000)], [finished(7000)], 9000)).toEqual({
      failuresAfterLastSuccess: 1,
      lastFailureTime: 7000,
    });
    expect(nextBackoffRecord(one, [], [], 9000)).toBe(one);
  });

  it('counts container restarts against backoffLimit only under restartPolicy OnFailure', () => {
    expect(pastBackoffLimitOnFailure('OnFailure', 2, [restarted(1), restarted(1)])).toBe(true);
    expect(pastBackoffLimitOnFailure('OnFailure', 3, [restarted(1), restarted(1)])).toBe(false);
    expect(pastBackoffLimitOnFailure('OnFailure', 0, [restarted(1)])).toBe(true);
    expect(pastBackoffLimitOnFailure('OnFailure', 0, [restarted(0)])).toBe(false);
    expect(pastBackoffLimitOnFailure('Never', 1, [restarted(5)])).toBe(false);
  });
});
