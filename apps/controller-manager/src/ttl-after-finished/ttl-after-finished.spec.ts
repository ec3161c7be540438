import { describe, expect, it } from '@jest/globals';

import { type Job } from '../job/job-types.js';
import { expiresAt } from './ttl-after-finished-controller.js';

const job = (spec: Job['spec'], status: Job['status'], deleting = false): Job => ({
  metadata: { name: 'j', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec,
  status,
});
const complete = {
  completionTime: '2026-01-01T10:00:00Z',
  conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T10:00:05Z' }],
};

// After upstream's ttlafterfinished_controller_test.go (TestTimeLeft).
describe('TTL after finished', () => {
  it('expires ttlSecondsAfterFinished after the completionTime of a complete Job', () => {
    expect(expiresAt(job({ ttlSecondsAfterFinished: 30 }, complete))).toBe(
      Date.parse('2026-01-01T10:00:30Z'),
    );
    expect(expiresAt(job({ ttlSecondsAfterFinished: 0 }, complete))).toBe(Date.parse('2026-01-01T10:00:00Z'));
  });

  it("expires a failed Job after its Failed condition's transition", () => {
    const failed = {
      conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-01-01T11:00:00Z' }],
    };
    expect(expiresAt(job({ ttlSecondsAfterFinished: 60 }, failed))).toBe(Date.parse('2026-01-01T11:01:00Z'));
  });

  it('never expires a Job without a TTL, unfinished, or already being deleted', () => {
    expect(expiresAt(job({}, complete))).toBeUndefined();
    expect(expiresAt(job({ ttlSecondsAfterFinished: 5 }, { active: 1 }))).toBeUndefined();
    const interim = { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] };
    expect(expiresAt(job({ ttlSecondsAfterFinished: 5 }, interim))).toBeUndefined();
    expect(expiresAt(job({ ttlSecondsAfterFinished: 5 }, complete, true))).toBeUndefined();
  });
});
