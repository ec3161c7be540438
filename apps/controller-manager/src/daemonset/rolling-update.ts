import { scaledValue } from '../deployment/fenceposts.js';
import { isPodAvailable, type Pod } from '../replicaset/pod-types.js';
import { isPodUpdated } from './daemon-pods.js';
import { type DaemonSet, isRollingUpdate } from './daemonset-types.js';
import { type Eligibility } from './node-eligibility.js';

/** util.SurgeCount / util.UnavailableCount: percentages of the desired count, rounded up. */
export function updateLimits(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  if (!isRollingUpdate(ds)) return { maxSurge: 0, maxUnavailable: 0 };
  const r = ds.spec?.updateStrategy?.rollingUpdate;
  let maxSurge = scaledValue(r?.maxSurge, desired, true);
  let maxUnavailable = scaledValue(r?.maxUnavailable, desired, true);
  // updatedDesiredNodeCounts: an impossible 0/0 falls back to accepting one unavailable.
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  maxSurge = Math.max(0, maxSurge);
  maxUnavailable = Math.max(0, maxUnavailable);
  return { maxSurge, maxUnavailable };
}

/**
 * findUpdatedPodsOnNode (update.go): the node's one new and one old pod (deleted pods left
 * out); undefined when it holds two of either, which the manage loop cleans up first.
 */
export function updatedPodsOnNode(
  pods: readonly Pod[],
  hash: string,
  generation: number | undefined,
): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { newPod, oldPod };
}

export interface RollingInput {
  ds: DaemonSet;
  /** Node name → the daemon pods targeting it (nodes that should run one present, maybe empty). */
  nodeToPods: ReadonlyMap<string, readonly Pod[]>;
  /** Eligibility of the nodes that exist (a pod's node missing from here counts as should not run). */
  eligibility: (nodeName: string) => Eligibility | undefined;
  desired: number;
  hash: string;
  generation: number | undefined;
  now: number;
}

export interface RollingPlan {
  deletePods: Pod[];
  createOnNodes: string[];
}

/**
 * rollingUpdate (pkg/controller/daemon/update.go). Without surge: delete old pods — every
 * unavailable one, and available ones while fewer than maxUnavailable nodes lack an available
 * new pod — and let the manage loop create their replacements. With surge: create a new pod
 * beside each unavailable old one and beside up to maxSurge available old ones, and delete an
 * old pod once the new one beside it is available; old pods on nodes that should no longer
 * run the DaemonSet go only while more pods are available than desired. Nodes are walked in
 * name order (upstream walks a map, in no order).
 */
export function rollingUpdatePlan(input: RollingInput): RollingPlan {
  const { ds, hash, generation, now } = input;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (p: Pod) => isPodAvailable(p, minReady, now);
  const { maxSurge, maxUnavailable } = updateLimits(ds, input.desired);
  const nodes = [...input.nodeToPods.keys()].sort();

  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowedReplacements: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of nodes) {
      const found = updatedPodsOnNode(input.nodeToPods.get(node) ?? [], hash, generation);
      if (!found) {
        numUnavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
      else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) {
          allowedReplacements.push(oldPod);
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) candidates.push(oldPod);
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    return { deletePods: [...allowedReplacements, ...candidates.slice(0, remaining)], createOnNodes: [] };
  }

  const oldPodsToDelete: Pod[] = [];
  const shouldNotRunPodsToDelete: Pod[] = [];
  const candidateNewNodes: string[] = [];
  const allowedNewNodes: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const node of nodes) {
    const found = updatedPodsOnNode(input.nodeToPods.get(node) ?? [], hash, generation);
    if (!found) {
      numSurge++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod) {
      if (available(oldPod)) numAvailable++;
    } else if (newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    if (!newPod) {
      const shouldRun = input.eligibility(node)?.shouldRun ?? false;
      if (!available(oldPod)) {
        if (!shouldRun) oldPodsToDelete.push(oldPod);
        else allowedNewNodes.push(node);
      } else if (!shouldRun) shouldNotRunPodsToDelete.push(oldPod);
      else if (numSurge < maxSurge) candidateNewNodes.push(node);
      continue;
    }
    // Already surged onto this node: the old pod goes once the new one is available.
    if (!available(newPod)) numSurge++;
    else oldPodsToDelete.push(oldPod);
  }
  // With surge the owner expects full availability: a pod on a node leaving the set goes only
  // once another has become available in its stead.
  const deletable = Math.min(numAvailable - input.desired, shouldNotRunPodsToDelete.length);
  if (deletable > 0) oldPodsToDelete.push(...shouldNotRunPodsToDelete.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(0, maxSurge - numSurge), candidateNewNodes.length);
  return {
    deletePods: oldPodsToDelete,
    createOnNodes: [...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge)],
  };
}
