import { describe, expect, it } from '@jest/globals';

import { labelSelectorFromObject } from '@app/api';

import { claimDecision } from './controller-ref-manager.js';
import { type Pod } from './pod-types.js';
import { type ReplicaOwner } from './replica-kind.js';
import { calculateStatus, statusUnchanged } from './replica-status.js';

const rs: ReplicaOwner = {
  metadata: { name: 'rs', namespace: 'ns', uid: 'rs-uid', generation: 2 },
  spec: { replicas: 2, minReadySeconds: 10, template: { metadata: { labels: { app: 'a', tier: 'web' } } } },
};
const selector = labelSelectorFromObject({ matchLabels: { app: 'a' } });
const ref = (uid: string) => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: 'x',
  uid,
  controller: true,
});
const pod = (
  labels: Record<string, string>,
  meta: Partial<Pod['metadata']> = {},
  status?: Pod['status'],
): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'p-uid', labels, ...meta },
  status,
});

// The cases of TestClaimPods (pkg/controller/controller_ref_manager_test.go).
describe('ControllerRefManager.ClaimObject decisions', () => {
  it("ClaimPods' filters narrow the match: a pod the filter refuses is released or not adopted", () => {
    const named = (p: Pod) => p.metadata.name === 'p';
    const other = pod({ app: 'a' }, { name: 'q' });
    expect(claimDecision(rs, selector, pod({ app: 'a' }), named)).toBe('adopt');
    expect(claimDecision(rs, selector, other, named)).toBe('ignore');
    expect(
      claimDecision(
        rs,
        selector,
        { ...other, metadata: { ...other.metadata, ownerReferences: [ref('rs-uid')] } },
        named,
      ),
    ).toBe('release');
  });

  it('keeps a matching pod it controls and releases one that no longer matches', () => {
    expect(claimDecision(rs, selector, pod({ app: 'a' }, { ownerReferences: [ref('rs-uid')] }))).toBe(
      'owned',
    );
    expect(claimDecision(rs, selector, pod({ app: 'b' }, { ownerReferences: [ref('rs-uid')] }))).toBe(
      'release',
    );
  });

  it('adopts a matching orphan, but not one being deleted, nor while the owner is being deleted', () => {
    expect(claimDecision(rs, selector, pod({ app: 'a' }))).toBe('adopt');
    expect(claimDecision(rs, selector, pod({ app: 'b' }))).toBe('ignore');
    expect(
      claimDecision(rs, selector, pod({ app: 'a' }, { deletionTimestamp: '2026-01-01T00:00:00Z' })),
    ).toBe('ignore');
    const dying = { ...rs, metadata: { ...rs.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(claimDecision(dying, selector, pod({ app: 'a' }))).toBe('ignore');
    expect(claimDecision(dying, selector, pod({ app: 'b' }, { ownerReferences: [ref('rs-uid')] }))).toBe(
      'ignore',
    );
  });

  it("never touches another controller's pod, and adopts across no namespace", () => {
    expect(claimDecision(rs, selector, pod({ app: 'a' }, { ownerReferences: [ref('other')] }))).toBe(
      'ignore',
    );
    expect(claimDecision(rs, selector, pod({ app: 'a' }, { namespace: 'elsewhere' }))).toBe('ignore');
  });
});

// After TestCalculateStatus (pkg/controller/replicaset/replica_set_utils_test.go).
describe('calculateStatus', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  const ready = (since: number) => ({
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(since).toISOString() }],
  });

  it('counts fully labeled, ready, and available (ready for minReadySeconds) pods', () => {
    const pods = [
      pod({ app: 'a', tier: 'web' }, {}, ready(now - 60_000)),
      pod({ app: 'a', tier: 'web' }, {}, ready(now - 1000)),
      pod({ app: 'a' }, {}, { phase: 'Pending' }),
    ];
    expect(calculateStatus(rs, pods, undefined, now)).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 1,
    });
  });

  it('sets ReplicaFailure FailedCreate on a create error, and clears it after a good sync', () => {
    const failed = calculateStatus(rs, [], new Error('quota exceeded'), now);
    expect(failed.conditions).toEqual([
      expect.objectContaining({
        type: 'ReplicaFailure',
        status: 'True',
        reason: 'FailedCreate',
        message: 'quota exceeded',
      }),
    ]);
    const after = calculateStatus({ ...rs, status: failed }, [], undefined, now);
    expect(after.conditions).toBeUndefined();
  });

  it('skips a status write that would change nothing, but not a new generation', () => {
    const s = calculateStatus(rs, [], undefined, now);
    expect(statusUnchanged({ ...rs, status: { ...s, observedGeneration: 2 } }, s)).toBe(true);
    expect(statusUnchanged({ ...rs, status: { ...s, observedGeneration: 1 } }, s)).toBe(false);
  });
});
