import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import { type DaemonSet } from './daemonset-types.js';
import { type RollingInput, rollingUpdatePlan, updatedPodsOnNode, updateLimits } from './rolling-update.js';
import { ds, pod } from './test-objects.js';

const rolling = (maxUnavailable: number | string, maxSurge: number | string = 0): DaemonSet =>
  ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } } });

function input(d: DaemonSet, pods: Record<string, Pod[]>, shouldRun = Object.keys(pods)): RollingInput {
  return {
    ds: d,
    nodeToPods: new Map(Object.entries(pods)),
    eligibility: (n) => ({ shouldRun: shouldRun.includes(n), shouldContinueRunning: shouldRun.includes(n) }),
    desired: shouldRun.length,
    hash: 'new',
    generation: undefined,
    now: Date.now(),
  };
}
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();

describe('rollingUpdate (update.go, update_test.go cases)', () => {
  it('SurgeCount/UnavailableCount round percentages up; 0/0 falls back to one unavailable; OnDelete has none', () => {
    expect(updateLimits(rolling('25%', 0), 10)).toEqual({ maxSurge: 0, maxUnavailable: 3 });
    expect(updateLimits(rolling(0, '10%'), 5)).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(updateLimits(rolling(0, 0), 5)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(updateLimits(ds({ updateStrategy: { type: 'OnDelete' } }), 5)).toEqual({
      maxSurge: 0,
      maxUnavailable: 0,
    });
  });

  it('findUpdatedPodsOnNode: one new and one old at most, deleted pods ignored', () => {
    expect(
      updatedPodsOnNode([pod('n', { hash: 'new' }), pod('n', { hash: 'new' })], 'new', undefined),
    ).toBeUndefined();
    const found = updatedPodsOnNode(
      [pod('n', { hash: 'old', name: 'o' }), pod('n', { hash: 'old', deleting: true })],
      'new',
      undefined,
    );
    expect(found?.oldPod?.metadata.name).toBe('o');
    expect(found?.newPod).toBeUndefined();
  });

  it('without surge deletes maxUnavailable available old pods (TestDaemonSetUpdatesPods)', () => {
    const plan = rollingUpdatePlan(
      input(rolling(2), {
        a: [pod('a', { hash: 'old', name: 'a' })],
        b: [pod('b', { hash: 'old', name: 'b' })],
        c: [pod('c', { hash: 'old', name: 'c' })],
        d: [pod('d', { hash: 'old', name: 'd' })],
      }),
    );
    expect(names(plan.deletePods)).toEqual(['a', 'b']);
    expect(plan.createOnNodes).toEqual([]);
  });

  it('counts nodes without a pod and new pods not yet available against maxUnavailable', () => {
    const plan = rollingUpdatePlan(
      input(rolling(2), {
        a: [],
        b: [pod('b', { hash: 'new', ready: false })],
        c: [pod('c', { hash: 'old', name: 'c' })],
      }),
    );
    expect(plan.deletePods).toEqual([]);
  });

  it('always replaces unavailable old pods, even beyond maxUnavailable (TestDaemonSetUpdatesAllOldPodsNotReady)', () => {
    const plan = rollingUpdatePlan(
      input(rolling(1), {
        a: [pod('a', { hash: 'old', ready: false, name: 'a' })],
        b: [pod('b', { hash: 'old', ready: false, name: 'b' })],
        c: [pod('c', { hash: 'old', name: 'c' })],
      }),
    );
    expect(names(plan.deletePods)).toEqual(['a', 'b']);
  });

  describe('with surge', () => {
    it('creates beside up to maxSurge available old pods, at once beside unavailable ones', () => {
      const plan = rollingUpdatePlan(
        input(rolling(0, 1), {
          a: [pod('a', { hash: 'old' })],
          b: [pod('b', { hash: 'old' })],
          c: [pod('c', { hash: 'old', ready: false })],
        }),
      );
      expect(plan.createOnNodes).toEqual(['c', 'a']);
      expect(plan.deletePods).toEqual([]);
    });

    it('deletes an old pod once the new one beside it is available; an unavailable new one uses the surge', () => {
      const plan = rollingUpdatePlan(
        input(rolling(0, 1), {
          a: [pod('a', { hash: 'old', name: 'oa' }), pod('a', { hash: 'new' })],
          b: [pod('b', { hash: 'old', name: 'ob' }), pod('b', { hash: 'new', ready: false })],
          c: [pod('c', { hash: 'old' })],
        }),
      );
      expect(names(plan.deletePods)).toEqual(['oa']);
      expect(plan.createOnNodes).toEqual([]);
    });

    it('removes a pod from a node leaving the set only while more pods are available than desired', () => {
      const pods = { a: [pod('a', { hash: 'new' })], b: [pod('b', { hash: 'old', name: 'gone' })] };
      expect(
        rollingUpdatePlan(input(rolling(0, 1), pods, ['a'])).deletePods.map((p) => p.metadata.name),
      ).toEqual(['gone']);
      const short = {
        a: [pod('a', { hash: 'new', ready: false })],
        b: [pod('b', { hash: 'old', name: 'gone' })],
      };
      expect(rollingUpdatePlan(input(rolling(0, 1), short, ['a'])).deletePods).toEqual([]);
    });
  });
});
