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
      // Whatever the last copy says: an assumed pod deleted before its binding was seen is
      // counted on its node all the same, and must stop being counted.
      if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoff();
      return;
    }
    if (node) {
      this.queue.delete(key);
      if (isTerminal(pod)) {
        if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoff();
        return;
      }
      this.cache.boundPod(pod, key, node);
      // A pod newly on a node (or relabelled) may be what a parked pod's affinity waits for.
      const old = change.type === 'updated' ? change.old : undefined;
      if (!old || fields(old).spec?.nodeName !== node || !sameJson(old.metadata.labels, pod.metadata.labels))
        this.queue.moveAllToActiveOrBackoff({ withPodAffinityOnly: true });
      return;
    }
    if (!isOurs(pod, this.schedulerName)) return this.queue.delete(key);
    // The scheduler's own PodScheduled patch (status only) must not pull a parked pod out again.
    const old = change.type === 'updated' ? change.old : undefined;
    const relevant = !old || schedulingInputsChanged(old, pod);
    this.queue.add(key, pod, fields(pod).spec?.priority ?? 0, { retry: relevant });
  }

  node(change: CacheChange<KubeObject>): void {
    const name = change.object.metadata.name ?? '';
    if (change.type === 'deleted') {
      this.cache.removeNode(name);
      return;
    }
    this.cache.setNode(change.object);
    // Status heartbeats change nothing a filter reads; only what could let a pod fit moves them.
    if (change.type === 'added' || nodeSchedulingPropertiesChanged(change.old, change.object))
      this.queue.moveAllToActiveOrBackoff();
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Upstream's isPodUpdated: spec, labels or annotations (not status, resourceVersion, managedFields). */
function schedulingInputsChanged(old: KubeObject, pod: KubeObject): boolean {
  return (
    !sameJson(old.spec, pod.spec) ||
    !sameJson(old.metadata.labels, pod.metadata.labels) ||
    !sameJson(old.metadata.annotations, pod.metadata.annotations)
  );
}

/** Upstream's nodeSchedulingPropertiesChange: what filters read of a node. */
function nodeSchedulingPropertiesChanged(old: KubeObject, node: KubeObject): boolean {
  const status = (n: KubeObject) => (n.status ?? {}) as { allocatable?: unknown; conditions?: unknown };
  const conditions = (n: KubeObject) =>
    ((status(n).conditions ?? []) as { type?: string; status?: string }[]).map(
      (c) => `${c.type}=${c.status}`,
    );
  return (
    !sameJson(old.spec, node.spec) ||
    !sameJson(old.metadata.labels, node.metadata.labels) ||
    !sameJson(status(old).allocatable, status(node).allocatable) ||
    !sameJson(conditions(old), conditions(node))
  );
}
