import { type CacheChange, objectKey } from '@app/client';

import { type KubeObject } from './framework/types.js';
import { type SchedulingQueue } from './queue/scheduling-queue.js';
import { type SchedulerCache } from './scheduler-cache.js';

interface PodFields {
  spec?: { nodeName?: string; schedulerName?: string; priority?: number };
  status?: { phase?: string };
}

const fields = (pod: KubeObject) => pod as KubeObject & PodFields;

/** Succeeded and Failed pods hold nothing on their node any more. */
export function isTerminal(pod: KubeObject): boolean {
  const phase = fields(pod).status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** A pod this scheduler must place: unbound, its scheduler (default: default-scheduler), alive. */
export function isOurs(pod: KubeObject, schedulerName: string): boolean {
  const spec = fields(pod).spec ?? {};
  return (
    !spec.nodeName &&
    (spec.schedulerName ?? 'default-scheduler') === schedulerName &&
    !pod.metadata.deletionTimestamp &&
    !isTerminal(pod)
  );
}

/**
 * Routes the informers' changes as kube-scheduler's event handlers do: bound pods go to the
 * cache (confirming the scheduler's assumption), unbound pods of this scheduler to the queue,
 * and changes that may let parked pods fit — a node added or changed, a bound pod gone or
 * finished — move the unschedulable pods back for another try.
 */
export class ClusterEvents {
  constructor(
    private readonly cache: SchedulerCache,
    private readonly queue: SchedulingQueue,
    private readonly schedulerName: string,
  ) {}

  pod(change: CacheChange<KubeObject>): void {
    const pod = change.object;
    const key = objectKey(pod);
    const node = fields(pod).spec?.nodeName;
    if (change.type === 'deleted') {
      this.queue.delete(key);
      if (node) {
        this.cache.removePod(key);
        this.queue.moveAllToActiveOrBackoff();
      }
      return;
    }
    if (node) {
      this.queue.delete(key);
      if (isTerminal(pod)) {
        this.cache.removePod(key);
        this.queue.moveAllToActiveOrBackoff();
      } else this.cache.boundPod(pod, key, node);
      return;
    }
    if (isOurs(pod, this.schedulerName)) this.queue.add(key, pod, fields(pod).spec?.priority ?? 0);
    else this.queue.delete(key);
  }

  node(change: CacheChange<KubeObject>): void {
    const name = change.object.metadata.name ?? '';
    if (change.type === 'deleted') {
      this.cache.removeNode(name);
      return;
    }
    this.cache.setNode(change.object);
    this.queue.moveAllToActiveOrBackoff();
  }
}
