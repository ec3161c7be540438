import { type StoredObject } from '@app/event-store';

import { type Pod } from '../replicaset/pod-types.js';

/** The parts of a Node PodGC reads. */
export type GcNode = StoredObject & {
  spec?: { taints?: { key: string; effect?: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
};

/** v1.TaintNodeOutOfService: an operator's word that the node is gone and its pods may go. */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

/** gc_controller.go isPodTerminated: any phase but Pending, Running and Unknown. */
export function isPodTerminated(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
}

/** eviction.PodIsEvicted: Failed with reason Evicted (the kubelet's eviction manager). */
function isEvicted(p: Pod): boolean {
  return p.status?.phase === 'Failed' && (p.status as { reason?: string }).reason === 'Evicted';
}

/**
 * gc_controller.go byEvictionAndCreationTimestamp: evicted pods first (so a controller's
 * terminated pods survive longer), then oldest by creationTimestamp, the name breaking ties.
 */
export function byEvictionAndCreation(a: Pod, b: Pod): number {
  const [ea, eb] = [isEvicted(a), isEvicted(b)];
  if (ea !== eb) return ea ? -1 : 1;
  const [ta, tb] = [
    Date.parse(a.metadata.creationTimestamp ?? ''),
    Date.parse(b.metadata.creationTimestamp ?? ''),
  ];
  if (ta !== tb) return ta - tb;
  const [na, nb] = [a.metadata.name ?? '', b.metadata.name ?? ''];
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** gcTerminated: the terminated pods beyond `threshold`, in the order they go (0 disables). */
export function terminatedOverThreshold(pods: readonly Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isPodTerminated);
  const excess = terminated.length - threshold;
  return excess > 0 ? terminated.sort(byEvictionAndCreation).slice(0, excess) : [];
}

/** nodeutil.IsNodeReady: the Ready condition is True. */
export function isNodeReady(n: GcNode): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * gcTerminating: terminating pods on a node that is not Ready and carries the out-of-service
 * taint (non-graceful node shutdown, KEP-2268), in eviction-then-age order. A pod whose node
 * is not in the cache is left to gcOrphaned.
 */
export function terminatingOnOutOfServiceNodes(
  pods: readonly Pod[],
  node: (name: string) => GcNode | undefined,
): Pod[] {
  return pods
    .filter((p) => {
      if (!p.metadata.deletionTimestamp) return false;
      const n = node(p.spec?.nodeName ?? '');
      return (
        n !== undefined &&
        !isNodeReady(n) &&
        (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT)
      );
    })
    .sort(byEvictionAndCreation);
}

/** gcUnscheduledTerminating: terminating pods never bound to a node (held by a finalizer). */
export function unscheduledTerminating(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName);
}
