import { describe, expect, it } from '@jest/globals';

import { notReadyStatus } from './pod-readiness.js';

// After TestMarkPodsNotReady (pkg/controller/util/node/controller_utils_test.go).
describe('notReadyStatus (MarkPodsNotReady)', () => {
  const pod = (ready?: string) => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: 'then' },
        ...(ready ? [{ type: 'Ready', status: ready, lastTransitionTime: 'then' }] : []),
      ],
    },
  });
  it('turns a ready pod NotReady, moving only that condition', () => {
    expect(notReadyStatus(pod('True'), 'now')).toEqual({
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: 'then' },
        { type: 'Ready', status: 'False', lastTransitionTime: 'now' },
      ],
    });
  });
  it('leaves pods without a Ready condition, or not ready already', () => {
    expect(notReadyStatus(pod(), 'now')).toBeUndefined();
    expect(notReadyStatus(pod('False'), 'now')).toBeUndefined();
  });
});
