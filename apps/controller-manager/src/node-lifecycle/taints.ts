import {
  type Node,
  type NodeTaint,
  type Taint,
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from './node-types.js';

/** nodeConditionToTaintKeyStatusMap (node_lifecycle_controller.go): which condition status means which taint. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};

/** taintKeyToNodeConditionMap's keys: the NoSchedule taints this controller owns. */
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/** Taint.MatchTaint: the same key and effect (the value does not count). */
export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** taintutils.TaintExists. */
export function taintExists(taints: readonly Taint[] | undefined, t: Taint): boolean {
  return (taints ?? []).some((x) => matchTaint(x, t));
}

/** The NoSchedule taints a node's conditions and spec.unschedulable call for (doNoScheduleTaintingPass). */
export function conditionTaints(node: Node): Taint[] {
  const taints: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) taints.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) taints.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return taints;
}

/**
 * doNoScheduleTaintingPass's diff (taintutils.TaintSetDiff): the condition taints to add and
 * the ones to remove, comparing only the NoSchedule taints this controller owns, so taints
 * others set are left alone.
 */
export function noScheduleTaintChanges(node: Node): { add: Taint[]; remove: Taint[] } {
  const wanted = conditionTaints(node);
  const owned = (node.spec?.taints ?? []).filter(
    (t) => t.effect === 'NoSchedule' && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)),
  );
  return {
    add: wanted.filter((t) => !taintExists(owned, t)),
    remove: owned.filter((t) => !taintExists(wanted, t)),
  };
}

/**
 * The node's taints after controller.AddOrUpdateTaintOnNode then RemoveTaintOffNode (as
 * SwapNodeControllerTaint does): an added taint replaces one with its key and effect, and is
 * stamped with timeAdded when it is NoExecute (the time tolerationSeconds count from).
 * Undefined when nothing would change.
 */
export function swapTaints(
  current: readonly NodeTaint[] | undefined,
  add: readonly Taint[],
  remove: readonly Taint[],
  nowIso: string,
): NodeTaint[] | undefined {
  let taints = [...(current ?? [])];
  let changed = false;
  for (const t of add) {
    const existing = taints.find((x) => matchTaint(x, t));
    if (existing && (existing.value ?? '') === (t.value ?? '')) continue;
    taints = taints.filter((x) => !matchTaint(x, t));
    taints.push({ ...t, ...(t.effect === 'NoExecute' ? { timeAdded: nowIso } : {}) });
    changed = true;
  }
  for (const t of remove) {
    if (!taintExists(taints, t)) continue;
    taints = taints.filter((x) => !matchTaint(x, t));
    changed = true;
  }
  return changed ? taints : undefined;
}
