import { isPodAvailable, isPodReady, type Pod } from '../replicaset/pod-types.js';
import { byCreationTimestampAndPhase, type DaemonPod } from './daemon-pods.js';
import { type Eligibility } from './node-eligibility.js';
import { DAEMONSET_HASH_LABEL } from './daemonset-types.js';

export interface NodePlan {
  /** The node needs a (new) daemon pod. */
  create: boolean;
  /** Daemon pods on the node to delete. */
  delete: Pod[];
  /** The failed pods among them (each reported as a FailedDaemonPod Event). */
  failed: Pod[];
  /** A failed pod is kept while its node backs off: look again after this long. */
  retryAfterMs?: number;
}

export interface PlacementContext {
  eligibility: Eligibility;
  /** maxSurge resolved > 0: a node may hold an old and a new pod while the new one comes up. */
  allowsSurge: boolean;
  hash: string;
  minReadySeconds: number;
  now: number;
  /**
   * failedPodsBackoff: 0 when the failed pod on this node may be deleted now (and the node's
   * backoff moves on), else the remaining wait in ms.
   */
  failedPodBackoff: () => number;
}

/**
 * podsShouldBeOnNode (pkg/controller/daemon/daemon_controller.go): for one node and the
 * daemon pods targeting it, whether a pod must be created and which must go — failed pods
 * (their node backing off between replacements), succeeded ones, all but the oldest when
 * surge is off, and, surging, all but the oldest new and oldest old pod (that old one too
 * once the new one is available or the old one not ready); on a node that must not keep
 * daemon pods, every one of them.
 */
export function podsShouldBeOnNode(pods: readonly DaemonPod[], c: PlacementContext): NodePlan {
  const plan: NodePlan = { create: false, delete: [], failed: [] };
  const { shouldRun, shouldContinueRunning } = c.eligibility;
  if (shouldRun && pods.length === 0) {
    plan.create = true;
    return plan;
  }
  if (!shouldContinueRunning) {
    plan.delete.push(...pods.filter((p) => !p.metadata.deletionTimestamp));
    return plan;
  }
  const running: DaemonPod[] = [];
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const phase = pod.status?.phase;
    if (phase === 'Failed') {
      const wait = c.failedPodBackoff();
      if (wait > 0) {
        plan.retryAfterMs = Math.min(plan.retryAfterMs ?? Infinity, wait);
        continue;
      }
      plan.delete.push(pod);
      plan.failed.push(pod);
    } else if (phase === 'Succeeded') {
      plan.delete.push(pod);
    } else {
      running.push(pod);
    }
  }
  running.sort(byCreationTimestampAndPhase);
  if (!c.allowsSurge) {
    plan.delete.push(...running.slice(1));
    return plan;
  }
  if (running.length <= 1) {
    // Surging, the node needs at least one pod not being deleted.
    if (running.length === 0 && shouldRun) plan.create = true;
    return plan;
  }
  let oldestNew: DaemonPod | undefined;
  let oldestOld: DaemonPod | undefined;
  for (const pod of running) {
    if (pod.metadata.labels?.[DAEMONSET_HASH_LABEL] === c.hash) {
      if (!oldestNew) {
        oldestNew = pod;
        continue;
      }
    } else if (!oldestOld) {
      oldestOld = pod;
      continue;
    }
    plan.delete.push(pod);
  }
  if (oldestNew && oldestOld) {
    if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, c.minReadySeconds, c.now))
      plan.delete.push(oldestOld);
  }
  return plan;
}
