import { describe, expect, it } from '@jest/globals';

import { deleteBefore, podsToDelete, type RankedPod } from './pod-ranking.js';
import { type Pod } from './pod-types.js';

// The cases of TestSortingActivePodsWithRanks (pkg/controller/controller_utils_test.go), with
// the PodDeletionCost and LogarithmicScaleDown features on (their defaults).
const now = Date.parse('2026-11-22T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3600_000;
const then1Month = now - 30 * 24 * HOUR;
const then2Hours = now - 2 * HOUR;
const then5Hours = now - 5 * HOUR;
const then8Hours = now - 8 * HOUR;
const zero = 0;

function pod(
  name: string,
  nodeName: string,
  phase: string,
  ready: boolean,
  restarts: number,
  readySince: number,
  created: number,
  annotations?: Record<string, string>,
): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      annotations,
      ...(created ? { creationTimestamp: iso(created) } : {}),
    },
    spec: { nodeName },
    status: {
      phase,
      conditions: ready
        ? [{ type: 'Ready', status: 'True', ...(readySince ? { lastTransitionTime: iso(readySince) } : {}) }]
        : [],
      containerStatuses: [{ restartCount: restarts }],
    },
  };
}

const unscheduledPod = pod('unscheduled', '', 'Pending', false, 0, zero, zero);
const scheduledPendingPod = pod('pending', 'node', 'Pending', false, 0, zero, zero);
const unknownPhasePod = pod('unknown-phase', 'node', 'Unknown', false, 0, zero, zero);
const runningNotReadyPod = pod('not-ready', 'node', 'Running', false, 0, zero, zero);
const runningReadyNoLastTransitionTimePod = pod('ready-no-ltt', 'node', 'Running', true, 0, zero, zero);
const runningReadyNow = pod('ready-zero-restarts-now', 'node', 'Running', true, 0, now, now);
const runningReadyThen = pod('ready-zero-restarts-then', 'node', 'Running', true, 0, then5Hours, then5Hours);
const runningReadyNowHighRestarts = pod('ready-high-restarts-now', 'node', 'Running', true, 9001, now, now);
const runningReadyNowCreatedThen = pod('ready-now-created-then', 'node', 'Running', true, 0, now, then5Hours);
const lowPodDeletionCost = pod('low-cost', 'node', 'Running', true, 0, now, then5Hours, {
  'controller.kubernetes.io/pod-deletion-cost': '10',
});
const highPodDeletionCost = pod('high-cost', 'node', 'Running', true, 0, now, then5Hours, {
  'controller.kubernetes.io/pod-deletion-cost': '100',
});
const unscheduled5Hours = pod('unscheduled-5-hours', '', 'Pending', false, 0, then5Hours, then5Hours);
const unscheduled8Hours = pod('unscheduled-8-hours', '', 'Pending', false, 0, then8Hours, then8Hours);
const ready2Hours = pod('ready-2-hours', '', 'Running', true, 0, then2Hours, then1Month);
const ready5Hours = pod('ready-5-hours', '', 'Running', true, 0, then5Hours, then1Month);
const ready10Hours = pod('ready-10-hours', '', 'Running', true, 0, then8Hours, then1Month);

const r = (p: Pod, rank: number): RankedPod => ({ pod: p, rank });

describe('ActivePodsWithRanks.Less (upstream cases)', () => {
  it.each([
    [unscheduledPod, unscheduledPod],
    [scheduledPendingPod, scheduledPendingPod],
    [unknownPhasePod, unknownPhasePod],
    [runningNotReadyPod, runningNotReadyPod],
    [runningReadyNowCreatedThen, runningReadyNowCreatedThen],
    [runningReadyNow, runningReadyNow],
    [runningReadyThen, runningReadyThen],
    [runningReadyNowHighRestarts, runningReadyNowHighRestarts],
    // Same log2 bucket of age (5 h and 8 h), no UIDs to break the tie: equal.
    [unscheduled5Hours, unscheduled8Hours],
    [ready5Hours, ready10Hours],
  ])('%# neither of %p and the other goes first', (a, b) => {
    expect(deleteBefore(r(a, 1), r(b, 1), now)).toBe(false);
    expect(deleteBefore(r(b, 1), r(a, 1), now)).toBe(false);
  });

  it.each([
    [r(unscheduledPod, 1), r(scheduledPendingPod, 2)],
    [r(unscheduledPod, 2), r(scheduledPendingPod, 1)],
    [r(scheduledPendingPod, 1), r(unknownPhasePod, 2)],
    [r(unknownPhasePod, 1), r(runningNotReadyPod, 2)],
    [r(runningNotReadyPod, 1), r(runningReadyNoLastTransitionTimePod, 1)],
    [r(runningReadyNoLastTransitionTimePod, 1), r(runningReadyNow, 1)],
    [r(runningReadyNow, 2), r(runningReadyNoLastTransitionTimePod, 1)],
    [r(runningReadyNow, 1), r(runningReadyThen, 1)],
    [r(runningReadyNow, 2), r(runningReadyThen, 1)],
    [r(runningReadyNowHighRestarts, 1), r(runningReadyNow, 1)],
    [r(runningReadyNow, 2), r(runningReadyNowHighRestarts, 1)],
    [r(runningReadyNow, 1), r(runningReadyNowCreatedThen, 1)],
    [r(runningReadyNowCreatedThen, 2), r(runningReadyNow, 1)],
    [r(lowPodDeletionCost, 2), r(highPodDeletionCost, 1)],
    [r(ready2Hours, 1), r(ready5Hours, 1)],
  ])('%# the lesser is deleted first', (lesser, greater) => {
    expect(deleteBefore(lesser, greater, now)).toBe(true);
    expect(deleteBefore(greater, lesser, now)).toBe(false);
  });

  it('breaks a tie within one log2 bucket by UID', () => {
    const a = { ...unscheduled5Hours, metadata: { ...unscheduled5Hours.metadata, uid: 'a' } };
    const b = { ...unscheduled8Hours, metadata: { ...unscheduled8Hours.metadata, uid: 'b' } };
    expect(deleteBefore(r(a, 0), r(b, 0), now)).toBe(true);
    expect(deleteBefore(r(b, 0), r(a, 0), now)).toBe(false);
  });
});

describe('getPodsToDelete', () => {
  const onNode = (name: string, node: string) => pod(name, node, 'Running', true, 0, then2Hours, then1Month);

  it('deletes first the pods on the node most doubled up with related pods', () => {
    const a = onNode('a', 'n1');
    const b = onNode('b', 'n2');
    const related = [a, b, onNode('sibling-1', 'n2'), onNode('sibling-2', 'n2')];
    expect(podsToDelete([a, b], related, 1, now).map((p) => p.metadata.name)).toEqual(['b']);
    expect(podsToDelete([a, b], [a, b, onNode('s', 'n1')], 1, now).map((p) => p.metadata.name)).toEqual([
      'a',
    ]);
  });

  it('ranks unscheduled, then pending, then not-ready pods before ready ones', () => {
    const pods = [runningReadyThen, runningNotReadyPod, scheduledPendingPod, unscheduledPod];
    expect(podsToDelete(pods, [], 3, now).map((p) => p.metadata.name)).toEqual([
      'unscheduled',
      'pending',
      'not-ready',
    ]);
  });

  it('returns them all when deleting at least as many as there are', () => {
    expect(podsToDelete([runningReadyNow, unscheduledPod], [], 2, now)).toHaveLength(2);
  });
});
