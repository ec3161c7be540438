import {
  getPodRevision,
  isCreated,
  isRunningAndAvailable,
  isRunningAndReady,
  isTerminating,
  type StatefulPod,
} from './identity.js';
import { type StatefulSet, type StatefulSetStatus } from './statefulset-types.js';

/**
 * updateStatus (stateful_set_control.go): replicas counts the created pods (those with a
 * phase), ready the Running and Ready ones, available those ready minReadySeconds; current and
 * updated count the live pods on the current and the update revision.
 */
export function countPods(
  pods: readonly StatefulPod[],
  minReadySeconds: number,
  currentRevision: string,
  updateRevision: string,
  now: number,
): Pick<
  StatefulSetStatus,
  'replicas' | 'readyReplicas' | 'availableReplicas' | 'currentReplicas' | 'updatedReplicas'
> {
  const s = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    if (isCreated(pod)) s.replicas++;
    if (isRunningAndReady(pod)) {
      s.readyReplicas++;
      if (isRunningAndAvailable(pod, minReadySeconds, now)) s.availableReplicas++;
    }
    if (isCreated(pod) && !isTerminating(pod)) {
      const revision = getPodRevision(pod);
      if (revision === currentRevision) s.currentReplicas++;
      if (revision === updateRevision) s.updatedReplicas++;
    }
  }
  return s;
}

/**
 * completeRollingUpdate: a RollingUpdate set whose pods are all updated and ready has finished
 * its rollout — the update revision becomes the current one.
 */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): StatefulSetStatus {
  if (
    set.spec?.updateStrategy?.type === 'RollingUpdate' &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas
  )
    return { ...status, currentReplicas: status.updatedReplicas, currentRevision: status.updateRevision };
  return status;
}

/** inconsistentStatus: whether the computed status differs from the set's (no write otherwise). */
export function inconsistentStatus(set: StatefulSet, status: StatefulSetStatus): boolean {
  const cur = set.status;
  return (
    (status.observedGeneration ?? 0) > (cur?.observedGeneration ?? 0) ||
    status.replicas !== (cur?.replicas ?? 0) ||
    status.currentReplicas !== (cur?.currentReplicas ?? 0) ||
    status.readyReplicas !== (cur?.readyReplicas ?? 0) ||
    status.updatedReplicas !== (cur?.updatedReplicas ?? 0) ||
    status.currentRevision !== cur?.currentRevision ||
    status.availableReplicas !== (cur?.availableReplicas ?? 0) ||
    status.updateRevision !== cur?.updateRevision ||
    (status.collisionCount ?? 0) !== (cur?.collisionCount ?? 0)
  );
}
