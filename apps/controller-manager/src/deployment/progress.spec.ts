import { describe, expect, it } from '@jest/globals';

import { type DeploymentCondition, type DeploymentStatus } from './deployment-types.js';
import {
  calculateStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  metaTime,
  pausedConditionStatus,
  progressRequeueMs,
  rolloutStatus,
  setCondition,
} from './progress.js';
import { deployment, replicaSet } from './test-objects.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const ago = (s: number) => metaTime(NOW - s * 1000);
const progressing = (
  reason: string,
  status: DeploymentCondition['status'] = 'True',
  at = ago(10),
): DeploymentCondition => ({
  type: 'Progressing',
  status,
  reason,
  message: '',
  lastUpdateTime: at,
  lastTransitionTime: at,
});
const progressingOf = (s: DeploymentStatus) => s.conditions?.find((c) => c.type === 'Progressing');

describe('progress and conditions (progress.go, deployment_util.go)', () => {
  // TestDeploymentComplete.
  it.each([
    [
      'not complete: min but not all pods become available',
      5,
      { replicas: 5, updatedReplicas: 5, availableReplicas: 4 },
      false,
    ],
    [
      'not complete: all pods are available but not updated',
      5,
      { replicas: 5, updatedReplicas: 4, availableReplicas: 5 },
      false,
    ],
    [
      'not complete: still running old pods',
      1,
      { replicas: 2, updatedReplicas: 1, availableReplicas: 2 },
      false,
    ],
    [
      'not complete: one replica deployment never comes up',
      1,
      { replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
      false,
    ],
    ['complete', 5, { replicas: 5, updatedReplicas: 5, availableReplicas: 5 }, true],
  ])('%s', (_name, desired, status, complete) => {
    expect(deploymentComplete(deployment(desired), { ...status, observedGeneration: 1 })).toBe(complete);
  });

  it('is not complete before the latest generation is observed', () => {
    const s = { replicas: 1, updatedReplicas: 1, availableReplicas: 1, observedGeneration: 1 };
    expect(deploymentComplete(deployment(1, { generation: 2 }), s)).toBe(false);
  });

  // TestDeploymentProgressing.
  it.each([
    ['progressing: updated pods', { updatedReplicas: 1 }, { updatedReplicas: 2 }, true],
    [
      'not progressing: nothing changed',
      { updatedReplicas: 2, replicas: 3 },
      { updatedReplicas: 2, replicas: 3 },
      false,
    ],
    [
      'progressing: old pods removed',
      { replicas: 3, updatedReplicas: 2 },
      { replicas: 2, updatedReplicas: 2 },
      true,
    ],
    ['not progressing: fewer ready', { readyReplicas: 2 }, { readyReplicas: 1 }, false],
    ['progressing: more ready', { readyReplicas: 1 }, { readyReplicas: 2 }, true],
    ['progressing: more available', { availableReplicas: 1 }, { availableReplicas: 2 }, true],
  ])('%s', (_name, before, after, expected) => {
    expect(deploymentProgressing(deployment(3, { status: before }), after)).toBe(expected);
  });

  // TestDeploymentTimedOut.
  it.each([
    [
      'no timeout: last update within the deadline',
      30,
      progressing('ReplicaSetUpdated', 'True', ago(10)),
      false,
    ],
    ['timeout: last update past the deadline', 5, progressing('ReplicaSetUpdated', 'True', ago(10)), true],
    [
      'no timeout: a completed rollout is never timed out',
      5,
      progressing('NewReplicaSetAvailable', 'True', ago(10)),
      false,
    ],
    ['timed out already', 30, progressing('ProgressDeadlineExceeded', 'False', ago(1)), true],
  ])('%s', (_name, deadline, c, expected) => {
    const d = deployment(1, { progressDeadlineSeconds: deadline });
    expect(deploymentTimedOut(d, { conditions: [c] }, NOW)).toBe(expected);
  });

  it('has no timeout without a deadline or a Progressing condition', () => {
    expect(
      deploymentTimedOut(
        deployment(1),
        { conditions: [progressing('ReplicaSetUpdated', 'True', ago(9999))] },
        NOW,
      ),
    ).toBe(false);
    expect(deploymentTimedOut(deployment(1, { progressDeadlineSeconds: 1 }), {}, NOW)).toBe(false);
  });

  it('SetDeploymentCondition keeps a condition of the same status and reason, and the transition time of the same status', () => {
    const s: DeploymentStatus = { conditions: [progressing('ReplicaSetUpdated', 'True', ago(100))] };
    setCondition(s, progressing('ReplicaSetUpdated', 'True', ago(1)));
    expect(progressingOf(s)?.lastUpdateTime).toBe(ago(100));
    setCondition(s, progressing('NewReplicaSetAvailable', 'True', ago(1)));
    expect(progressingOf(s)).toMatchObject({
      reason: 'NewReplicaSetAvailable',
      lastUpdateTime: ago(1),
      lastTransitionTime: ago(100),
    });
    setCondition(s, progressing('ProgressDeadlineExceeded', 'False', ago(0)));
    expect(progressingOf(s)?.lastTransitionTime).toBe(ago(0));
  });

  it('calculateStatus counts the sets and sets Available by minimum availability', () => {
    const d = deployment(4, { maxSurge: 1, maxUnavailable: 1 });
    const old = replicaSet('old', 2, { available: 2 });
    const neu = replicaSet('new', 3, { available: 1, actual: 3 });
    const s = calculateStatus(d, [old, neu], neu, NOW);
    expect(s).toMatchObject({
      observedGeneration: 1,
      replicas: 5,
      updatedReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 2,
    });
    expect(s.conditions).toEqual([
      {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
        lastUpdateTime: metaTime(NOW),
        lastTransitionTime: metaTime(NOW),
      },
    ]);
    const short = calculateStatus(d, [replicaSet('new', 4, { available: 2 })], undefined, NOW);
    expect(short.conditions?.[0]).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  // TestSyncRolloutStatus.
  describe('rolloutStatus', () => {
    const neu = (available: number) => replicaSet('foo-new', 2, { available });

    it('removes Progressing without a deadline', () => {
      const d = deployment(2, { status: { conditions: [progressing('ReplicaSetUpdated')] } });
      expect(progressingOf(rolloutStatus(d, [neu(2)], neu(2), NOW))).toBeUndefined();
    });

    it('does not estimate progress of a completed rollout', () => {
      const c = progressing('NewReplicaSetAvailable', 'True', ago(1000));
      const d = deployment(2, {
        progressDeadlineSeconds: 60,
        status: { replicas: 2, updatedReplicas: 2, conditions: [c] },
      });
      expect(progressingOf(rolloutStatus(d, [neu(0)], neu(0), NOW))).toEqual(c);
    });

    it('keeps lastTransitionTime of a Progressing=True condition on progress, and refreshes it from False', () => {
      const t = progressing('ReplicaSetUpdated', 'True', ago(50));
      const d = deployment(2, {
        progressDeadlineSeconds: 60,
        status: { replicas: 2, updatedReplicas: 2, availableReplicas: 0, conditions: [t] },
      });
      expect(progressingOf(rolloutStatus(d, [neu(1)], neu(1), NOW))).toEqual({
        ...t,
        message: 'ReplicaSet "foo-new" is progressing.',
        lastUpdateTime: metaTime(NOW),
      });
      const f = progressing('ReplicaSetCreateError', 'False', ago(50));
      const d2 = deployment(2, {
        progressDeadlineSeconds: 60,
        status: { replicas: 2, updatedReplicas: 2, conditions: [f] },
      });
      expect(progressingOf(rolloutStatus(d2, [neu(1)], neu(1), NOW))).toMatchObject({
        status: 'True',
        reason: 'ReplicaSetUpdated',
        lastTransitionTime: metaTime(NOW),
      });
    });

    it('times out past the deadline, once', () => {
      const d = deployment(2, {
        progressDeadlineSeconds: 5,
        status: { replicas: 2, updatedReplicas: 2, conditions: [progressing('ReplicaSetUpdated')] },
      });
      const s = rolloutStatus(d, [neu(0)], neu(0), NOW);
      expect(progressingOf(s)).toMatchObject({
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "foo-new" has timed out progressing.',
      });
      const again = deployment(2, { progressDeadlineSeconds: 5, status: s });
      expect(progressingOf(rolloutStatus(again, [neu(0)], neu(0), NOW + 60_000))).toEqual(progressingOf(s));
    });

    it('reports completion as NewReplicaSetAvailable', () => {
      const d = deployment(2, {
        progressDeadlineSeconds: 60,
        status: {
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
          conditions: [progressing('ReplicaSetUpdated')],
        },
      });
      expect(progressingOf(rolloutStatus(d, [neu(2)], neu(2), NOW))).toMatchObject({
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: 'ReplicaSet "foo-new" has successfully progressed.',
      });
    });

    it('mirrors a ReplicaFailure of the sets, the new set’s first', () => {
      const failing = neu(0);
      failing.status!.conditions = [
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message: 'quota',
          lastTransitionTime: ago(3),
        },
      ];
      const s = rolloutStatus(deployment(2), [failing], failing, NOW);
      expect(s.conditions?.find((c) => c.type === 'ReplicaFailure')).toMatchObject({
        status: 'True',
        reason: 'FailedCreate',
        message: 'quota',
        lastUpdateTime: ago(3),
      });
      const healed = rolloutStatus(deployment(2, { status: s }), [neu(2)], neu(2), NOW);
      expect(healed.conditions?.find((c) => c.type === 'ReplicaFailure')).toBeUndefined();
    });
  });

  it('requeues at the progress deadline, now when it has passed, and not when done', () => {
    const d = deployment(2, {
      progressDeadlineSeconds: 30,
      status: { conditions: [progressing('ReplicaSetUpdated', 'True', ago(10))] },
    });
    expect(progressRequeueMs(d, { replicas: 2, updatedReplicas: 1 }, NOW)).toBe(21_000);
    expect(progressRequeueMs(d, { replicas: 2, updatedReplicas: 1 }, NOW + 29_500)).toBe(0);
    expect(
      progressRequeueMs(
        d,
        { replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 },
        NOW,
      ),
    ).toBeUndefined();
    expect(progressRequeueMs(deployment(2), {}, NOW)).toBeUndefined();
  });

  // TestDeploymentController_checkPausedConditions (sync_test.go).
  it('sets DeploymentPaused and DeploymentResumed, but never over a timeout', () => {
    const d = deployment(1, {
      progressDeadlineSeconds: 60,
      status: { conditions: [progressing('ReplicaSetUpdated')] },
    });
    d.spec!.paused = true;
    const paused = pausedConditionStatus(d, NOW);
    expect(progressingOf(paused!)).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPaused',
      message: 'Deployment is paused',
    });
    expect(pausedConditionStatus({ ...d, status: paused }, NOW)).toBeUndefined();
    const resumed = pausedConditionStatus({ ...d, spec: { ...d.spec, paused: false }, status: paused }, NOW);
    expect(progressingOf(resumed!)).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentResumed',
      message: 'Deployment is resumed',
    });
    const timedOut = deployment(1, {
      progressDeadlineSeconds: 60,
      status: { conditions: [progressing('ProgressDeadlineExceeded', 'False')] },
    });
    timedOut.spec!.paused = true;
    expect(pausedConditionStatus(timedOut, NOW)).toBeUndefined();
  });
});
