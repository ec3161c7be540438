import { matchesLabels, type LabelSelector } from '@app/api';

import { isPodAvailable, isPodReady, type Pod } from './pod-types.js';
import { type ReplicaCondition, type ReplicaOwner, type ReplicaStatus } from './replica-kind.js';

const REPLICA_FAILURE = 'ReplicaFailure';

/**
 * calculateStatus (pkg/controller/replicaset/replica_set_utils.go): counts of the owned active
 * pods, and the ReplicaFailure condition set when creating or deleting failed (FailedCreate /
 * FailedDelete) and removed once a sync succeeds.
 */
export function calculateStatus(
  owner: ReplicaOwner,
  pods: readonly Pod[],
  manageError: Error | undefined,
  now = Date.now(),
): ReplicaStatus {
  const templateLabels: LabelSelector = {
    requirements: Object.entries(owner.spec?.template?.metadata?.labels ?? {}).map(([key, v]) => ({
      key,
      operator: 'Equals' as const,
      values: [v],
    })),
  };
  const minReady = owner.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (matchesLabels(templateLabels, p.metadata.labels)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  let conditions: ReplicaCondition[] = [...(owner.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (manageError && !failure) {
    const diff = pods.length - (owner.spec?.replicas ?? 1);
    conditions.push({
      type: REPLICA_FAILURE,
      status: 'True',
      reason: diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '',
      message: manageError.message,
      lastTransitionTime: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  return {
    ...owner.status,
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(conditions.length > 0 ? { conditions } : { conditions: undefined }),
  };
}

/** The fields updateReplicaSetStatus compares before writing (it skips a write that changes nothing). */
export function statusUnchanged(owner: ReplicaOwner, next: ReplicaStatus): boolean {
  const cur = owner.status;
  return (
    cur !== undefined &&
    (cur.replicas ?? 0) === next.replicas &&
    (cur.fullyLabeledReplicas ?? 0) === next.fullyLabeledReplicas &&
    (cur.readyReplicas ?? 0) === next.readyReplicas &&
    (cur.availableReplicas ?? 0) === next.availableReplicas &&
    cur.observedGeneration === owner.metadata.generation &&
    JSON.stringify(cur.conditions ?? []) === JSON.stringify(next.conditions ?? [])
  );
}
