import { describe, expect, it } from '@jest/globals';

import {
  cleanupUnhealthyReplicas,
  newReplicaSetTarget,
  oldReplicaSetsScaleDown,
  scaleDownOldReplicaSets,
} from './rolling.js';
import { deployment, replicaSet } from './test-objects.js';

const sizes = (steps: { rs: { metadata: { name?: string } }; replicas: number }[]) =>
  steps.map((s) => [s.rs.metadata.name, s.replicas]);

describe('rolling update (rolling.go)', () => {
  // TestDeploymentController_reconcileNewReplicaSet.
  it.each([
    ['no surge: no room to grow', 10, 0, 10, 0, undefined],
    ['grows by the surge', 10, 2, 10, 0, 2],
    ['grows to the room left by scaled-down old pods', 10, 2, 5, 0, 7],
    ['at desired+maxSurge already', 10, 2, 10, 2, undefined],
    ['above desired: back to desired', 10, 2, 2, 11, 10],
  ] as const)('%s', (_name, desired, surge, oldReplicas, newReplicas, expected) => {
    const d = deployment(desired, { maxSurge: surge, maxUnavailable: 0 });
    const old = replicaSet('old', oldReplicas);
    const neu = replicaSet('new', newReplicas);
    expect(newReplicaSetTarget(d, [old, neu], neu)).toBe(expected);
  });

  it('waits for a scaled-down old set to let its extra pods go before growing the new one', () => {
    const d = deployment(20, { maxSurge: 5, maxUnavailable: 5 });
    // The old set was scaled 20 → 17 (by a manager killed a moment later); its pods still count 20.
    const old = replicaSet('old', 17, { actual: 20 });
    const neu = replicaSet('new', 5, { actual: 5 });
    expect(newReplicaSetTarget(d, [old, neu], neu)).toBeUndefined();
    // Once the three are marked for deletion, the room is the new set's.
    expect(newReplicaSetTarget(d, [replicaSet('old', 17, { actual: 17 }), neu], neu)).toBe(8);
  });

  // TestDeploymentController_cleanupUnhealthyReplicas: 10 old replicas, 8 available.
  it.each([
    [1, 9],
    [3, 8],
    [0, undefined],
  ] as const)('cleans up at most %p unhealthy replicas', (maxCleanup, expected) => {
    const steps = cleanupUnhealthyReplicas([replicaSet('old', 10, { available: 8 })], maxCleanup);
    expect(steps[0]?.replicas).toBe(expected);
  });

  it('refuses to "clean up" into a scale-up when a stale status counts more available pods than the set has', () => {
    // Scaled down to 5 a moment ago, its status still says 9 available.
    expect(() => cleanupUnhealthyReplicas([replicaSet('old', 5, { available: 9 })], 3)).toThrow(
      /invalid request to scale down .*old 5 -> 9/,
    );
  });

  it('cleans up nothing when every old replica is available, and the oldest sets first', () => {
    expect(cleanupUnhealthyReplicas([replicaSet('old', 10)], 3)).toEqual([]);
    const older = replicaSet('a', 3, { available: 1, at: 100 });
    const newer = replicaSet('b', 3, { available: 0, at: 200 });
    expect(sizes(cleanupUnhealthyReplicas([newer, older], 3))).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  // TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate: old sets only.
  it.each([
    ['maxUnavailable 2, all available', 10, 2, 10, 10, 8],
    ['maxUnavailable 2, 8 available: none above the minimum', 10, 2, 8, 10, undefined],
    ['a set of 0 is left alone', 10, 2, 10, 0, undefined],
    ['the available pods of a smaller old set', 10, 2, 10, 1, 0],
  ] as const)('%s', (_name, desired, unavailable, available, oldReplicas, expected) => {
    const d = deployment(desired, { maxSurge: 1, maxUnavailable: unavailable });
    const old = replicaSet('old', oldReplicas, { available });
    const neu = replicaSet('new', 0);
    expect(scaleDownOldReplicaSets(d, [old, neu], [old])[0]?.replicas).toBe(expected);
  });

  it('never scales down below desired−maxUnavailable available, counting the new set’s unavailable pods', () => {
    // 10 desired, surge 3, unavailable 2: new set of 3 with none available, old set of 10 available.
    const d = deployment(10, { maxSurge: 3, maxUnavailable: 2 });
    const old = replicaSet('old', 10);
    const neu = replicaSet('new', 3, { available: 0 });
    // 13 − 8 − 3 = 2 may go.
    expect(sizes(oldReplicaSetsScaleDown(d, [old, neu], [old], neu))).toEqual([['old', 8]]);
    // Then the new set grows to 5 and nothing more may go until its pods are available.
    const stuck = replicaSet('new', 5, { available: 0 });
    const old8 = replicaSet('old', 8);
    expect(oldReplicaSetsScaleDown(d, [old8, stuck], [old8], stuck)).toEqual([]);
    expect(newReplicaSetTarget(d, [old8, stuck], stuck)).toBeUndefined();
  });

  it('removes unavailable old replicas first, then available ones down to the minimum', () => {
    const d = deployment(10, { maxSurge: 0, maxUnavailable: 2 });
    const old = replicaSet('old', 10, { available: 7 });
    const neu = replicaSet('new', 0);
    // maxScaledDown = 10 − 8 − 0 = 2: two of the three unavailable go; 7 available ≤ 8: no more.
    expect(sizes(oldReplicaSetsScaleDown(d, [old, neu], [old], neu))).toEqual([['old', 8]]);
  });
});
