import { type Pod } from '../replicaset/pod-types.js';

/**
 * MarkPodsNotReady's per-pod step (pkg/controller/util/node/controller_utils.go with
 * podutil.UpdatePodCondition): the pod's status with its Ready condition False, or undefined
 * when it has no Ready condition or it is False already. The transition time moves only when
 * the status does.
 */
export function notReadyStatus(pod: Pod, nowIso: string): NonNullable<Pod['status']> | undefined {
  const conditions = pod.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'False') return undefined;
  return {
    ...pod.status,
    conditions: conditions.map((c) =>
      c === ready ? { ...c, status: 'False', lastTransitionTime: nowIso } : c,
    ),
  };
}
