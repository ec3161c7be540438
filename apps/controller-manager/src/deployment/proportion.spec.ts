import { describe, expect, it } from '@jest/globals';

import { type Deployment } from './deployment-types.js';
import { planScale, replicaSetProportion, roundHalfAwayFromZero } from './proportion.js';
import { deployment, replicaSet } from './test-objects.js';

/** The sets as the previous size left them: annotated with its desired and max replicas. */
const annotated = (name: string, replicas: number, previous: number, surge = 0, at?: number) =>
  replicaSet(name, replicas, {
    at,
    annotations: {
      'deployment.kubernetes.io/desired-replicas': String(previous),
      'deployment.kubernetes.io/max-replicas': String(previous + surge),
    },
  });

const plan = (
  d: Deployment,
  newRS: ReturnType<typeof replicaSet> | undefined,
  old: ReturnType<typeof replicaSet>[],
) => Object.fromEntries(planScale(d, newRS, old).map((s) => [s.rs.metadata.name, s.replicas]));

describe('proportional scaling (sync.go scale, deployment_util.go GetProportion)', () => {
  it('rounds halves away from zero as Go does', () => {
    expect([2.5, -2.5, 1.4, -1.6].map(roundHalfAwayFromZero)).toEqual([3, -3, 1, -2]);
  });

  // TestScale (sync_test.go): maxSurge 0; the sets annotated with the previous size.
  it.each([
    ['normal scaling event: 10 → 12', 12, 10, [10], [], { new: 12 }],
    ['normal scaling event: 10 → 5', 5, 10, [10], [], { new: 5 }],
    ['proportional scaling: 5 → 10', 10, 5, [2], [3], { new: 4, old0: 6 }],
    ['proportional scaling: 5 → 3', 3, 5, [2], [3], { new: 1, old0: 2 }],
    ['proportional scaling: 9 → 4', 4, 9, [8], [1], { new: 4, old0: 0 }],
    ['proportional scaling: 7 → 10', 10, 7, [2], [3, 2], { new: 3, old0: 4, old1: 3 }],
    ['proportional scaling: 13 → 8', 8, 13, [2], [8, 3], { new: 1, old0: 5, old1: 2 }],
  ] as const)('%s', (_name, desired, previous, [newSize], oldSizes, expected) => {
    const old = oldSizes.map((n, i) => annotated(`old${i}`, n, previous, 0, 10 + i));
    const neu = annotated('new', newSize, previous, 0, 100);
    expect(plan(deployment(desired), neu, old)).toEqual(expected);
  });

  it('a resize that leaves the total as it is still rewrites every active set (their annotations)', () => {
    // 8 with surge 2 → 10 with surge 0: 10 pods in all either way.
    const steps = planScale(deployment(10), annotated('new', 5, 8, 2, 100), [annotated('old', 5, 8, 2, 1)]);
    expect(steps.map((s) => [s.rs.metadata.name, s.replicas, s.proportional, s.operation])).toEqual([
      ['old', 5, true, undefined],
      ['new', 5, true, undefined],
    ]);
  });

  it('one active set takes the full size; with none, the newest does', () => {
    const d = deployment(6);
    expect(plan(d, annotated('new', 0, 3), [annotated('old', 3, 3)])).toEqual({ old: 6 });
    const older = annotated('old', 0, 3, 0, 1);
    const newer = annotated('old2', 0, 3, 0, 2);
    expect(plan(d, undefined, [older, newer])).toEqual({ old2: 6 });
  });

  it('a saturated new set scales the old ones to 0', () => {
    const neu = annotated('new', 3, 3);
    expect(plan(deployment(3), neu, [annotated('old', 1, 3)])).toEqual({ old: 0 });
  });

  it('leaves a Recreate Deployment with two active sets alone', () => {
    const d = deployment(10, { recreate: true });
    expect(plan(d, annotated('new', 2, 5), [annotated('old', 3, 5)])).toEqual({});
  });

  it('a proportion never exceeds what is left to add, and is 0 for an empty set', () => {
    const d = deployment(20, { maxSurge: 3 });
    const rs = annotated('old', 8, 10, 3);
    // 8·23/13 = 14.15 → 14: +6, capped by what is left.
    expect(replicaSetProportion(rs, d, 10, 0)).toBe(6);
    expect(replicaSetProportion(rs, d, 10, 7)).toBe(3);
    expect(replicaSetProportion(annotated('e', 0, 10, 3), d, 10, 0)).toBe(0);
  });
});
