import { type PodSpec } from '../../../scheduler/src/framework/api-types.js';
import { RequiredNodeAffinity } from '../../../scheduler/src/framework/node-selector.js';
import { toleratedBy } from '../../../scheduler/src/framework/taints.js';
import { type Taint, type Toleration } from '../../../scheduler/src/framework/types.js';
import { type DaemonSet, type Node } from './daemonset-types.js';

/** A pod spec as the template carries it: what the scheduler reads, and anything else kept as is. */
export type DaemonPodSpec = PodSpec & { hostNetwork?: boolean; [field: string]: unknown };

/** Toleration.MatchToleration: the same key, operator, value and effect. */
function sameToleration(a: Toleration, b: Toleration): boolean {
  return (
    (a.key ?? '') === (b.key ?? '') &&
    (a.operator ?? '') === (b.operator ?? '') &&
    (a.value ?? '') === (b.value ?? '') &&
    (a.effect ?? '') === (b.effect ?? '')
  );
}

/**
 * v1helper.AddOrUpdateTolerationInPodSpec: a toleration matching `t` is replaced by it (which
 * drops its tolerationSeconds), else `t` is appended.
 */
function addOrUpdateToleration(tolerations: Toleration[], t: Toleration): Toleration[] {
  let updated = false;
  const out = tolerations.map((cur) => {
    if (!sameToleration(cur, t)) return cur;
    updated = true;
    return t;
  });
  if (!updated) out.push(t);
  return out;
}

const exists = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });

/**
 * util.AddOrUpdateDaemonPodTolerations (pkg/controller/daemon/util/daemonset_util.go): a daemon
 * pod survives the node problems other pods are evicted or kept away for — not-ready and
 * unreachable NoExecute without tolerationSeconds, the pressure and unschedulable NoSchedule
 * taints, and network-unavailable for a host-network pod.
 */
export function daemonPodTolerations(spec: DaemonPodSpec): Toleration[] {
  let t = [...(spec.tolerations ?? [])];
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/not-ready', 'NoExecute'));
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/unreachable', 'NoExecute'));
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/disk-pressure', 'NoSchedule'));
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/memory-pressure', 'NoSchedule'));
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/pid-pressure', 'NoSchedule'));
  t = addOrUpdateToleration(t, exists('node.kubernetes.io/unschedulable', 'NoSchedule'));
  if (spec.hostNetwork)
    t = addOrUpdateToleration(t, exists('node.kubernetes.io/network-unavailable', 'NoSchedule'));
  return t;
}

/** v1helper.FindMatchingUntoleratedTaint over the taints `filter` keeps. */
function hasUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  filter: (t: Taint) => boolean,
): boolean {
  return taints.some((taint) => filter(taint) && !toleratedBy(tolerations, taint));
}

export interface Eligibility {
  /** A daemon pod should be created on the node (when it has none). */
  shouldRun: boolean;
  /** A daemon pod already on the node may stay. */
  shouldContinueRunning: boolean;
}

/**
 * NodeShouldRunDaemonPod (daemonset_util.go): the pod the DaemonSet would put on the node
 * (its template with the daemon tolerations) must fit its nodeName, nodeSelector and required
 * node affinity, and tolerate its NoSchedule and NoExecute taints; a pod that tolerates the
 * NoExecute ones but not a NoSchedule one is not created there but, already running, stays.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): Eligibility {
  const spec = (ds.spec?.template?.spec ?? {}) as DaemonPodSpec;
  const name = node.metadata.name ?? '';
  if (spec.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  const affinity = new RequiredNodeAffinity(spec);
  if (!affinity.matches({ name, labels: (node.metadata.labels ?? {}) as Record<string, string> }))
    return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = daemonPodTolerations(spec);
  const fitsTaints = !hasUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule',
  );
  if (fitsTaints) return { shouldRun: true, shouldContinueRunning: true };
  return {
    shouldRun: false,
    shouldContinueRunning: !hasUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute'),
  };
}
