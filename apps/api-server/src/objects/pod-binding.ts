import { type ErrorTarget, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

/**
 * What `pods/binding` does to the stored pod, run under the log-head lock: sets spec.nodeName
 * and PodScheduled=True (at `at`), copying what it changes; a pod already bound or being deleted
 * is refused (409), never overwritten.
 */
export function assignToNode(
  pod: ErrorTarget & { name: string },
  node: string,
  at: string,
): (current: StoredObject) => StoredObject {
  return (current) => {
    const spec = (current.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName)
      throw StatusError.conflict(pod, `pod ${pod.name} is already assigned to node "${spec.nodeName}"`);
    if (current.metadata.deletionTimestamp)
      throw StatusError.conflict(pod, `pod ${pod.name} is being deleted, cannot be assigned to a host`);
    const status = (current.status ?? {}) as { conditions?: { type: string }[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: at,
    } as { type: string });
    return { ...current, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
  };
}
