import { isPodActive, isPodReady, type Pod, readyCondition } from './pod-types.js';

/** podPhaseToOrdinal: Pending < Unknown < Running (anything else counts as Pending, Go's zero value). */
const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface RankedPod {
  pod: Pod;
  /** How many active pods of the same (indirectly related) sets share this pod's node. */
  rank: number;
}

/** Milliseconds since the epoch, or 0 for a missing time (Go's zero time). */
function time(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** helper.GetDeletionCostFromPodAnnotations (an unparsable cost counts as 0). */
function deletionCost(p: Pod): number {
  const raw = p.metadata.annotations?.[DELETION_COST];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) ? n : 0;
}

/** afterOrZero: a zero time sorts first, then the later time. */
function afterOrZero(t1: number, t2: number): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  return t1 > t2;
}

/** logarithmicRankDiff: the difference of floor(log2(age in ns)), ages ≤ 0 ranking -1. */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => {
    const ns = (now - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return rank(t1) - rank(t2);
}

/** maxContainerRestarts: of regular containers, and of restartable init containers (sidecars). */
function maxRestarts(p: Pod): [number, number] {
  const regular = Math.max(0, ...(p.status?.containerStatuses ?? []).map((s) => s.restartCount ?? 0));
  const sidecarNames = new Set(
    (p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  const sidecar = Math.max(
    0,
    ...(p.status?.initContainerStatuses ?? [])
      .filter((s) => s.name !== undefined && sidecarNames.has(s.name))
      .map((s) => s.restartCount ?? 0),
  );
  return [regular, sidecar];
}

/** Compares two times in log2 buckets of their age, the pod UID breaking a tie (LogarithmicScaleDown). */
function logarithmicLess(ti: number, tj: number, i: Pod, j: Pod, now: number): boolean {
  if (ti === 0 || tj === 0) return afterOrZero(ti, tj);
  const diff = logarithmicRankDiff(ti, tj, now);
  if (diff === 0) return (i.metadata.uid ?? '') < (j.metadata.uid ?? '');
  return diff < 0;
}

/**
 * ActivePodsWithRanks.Less (pkg/controller/controller_utils.go): true when pod `a` should be
 * deleted before pod `b`.
 */
export function deleteBefore(a: RankedPod, b: RankedPod, now: number): boolean {
  const [pi, pj] = [a.pod, b.pod];
  const [ni, nj] = [pi.spec?.nodeName ?? '', pj.spec?.nodeName ?? ''];
  // 1. Unassigned < assigned.
  if (ni !== nj && (ni === '' || nj === '')) return ni === '';
  // 2. Pending < Unknown < Running.
  const [oi, oj] = [PHASE_ORDINAL[pi.status?.phase ?? ''] ?? 0, PHASE_ORDINAL[pj.status?.phase ?? ''] ?? 0];
  if (oi !== oj) return oi < oj;
  // 3. Not ready < ready.
  const [ri, rj] = [isPodReady(pi), isPodReady(pj)];
  if (ri !== rj) return !ri;
  // 4. Lower pod-deletion-cost < higher.
  const [ci, cj] = [deletionCost(pi), deletionCost(pj)];
  if (ci !== cj) return ci < cj;
  // 5. Doubled up < not doubled up.
  if (a.rank !== b.rank) return a.rank > b.rank;
  // 6. Ready for less time < more time.
  if (ri && rj) {
    const [ti, tj] = [
      time(readyCondition(pi)?.lastTransitionTime),
      time(readyCondition(pj)?.lastTransitionTime),
    ];
    if (ti !== tj) return logarithmicLess(ti, tj, pi, pj, now);
  }
  // 7. More container restarts < fewer.
  const [[gi, si], [gj, sj]] = [maxRestarts(pi), maxRestarts(pj)];
  if (gi !== gj) return gi > gj;
  if (si !== sj) return si > sj;
  // 8. Newer < older.
  const [ki, kj] = [time(pi.metadata.creationTimestamp), time(pj.metadata.creationTimestamp)];
  if (ki !== kj) return logarithmicLess(ki, kj, pi, pj, now);
  return false;
}

/**
 * getPodsToDelete + getPodsRankedByRelatedPodsOnSameNode (pkg/controller/replicaset/replica_set.go):
 * the `diff` pods to delete first, ranked by how many active related pods share their node.
 */
export function podsToDelete(
  filtered: readonly Pod[],
  related: readonly Pod[],
  diff: number,
  now = Date.now(),
): Pod[] {
  if (diff >= filtered.length) return filtered.slice(0, diff);
  const onNode = new Map<string, number>();
  for (const p of related)
    if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const ranked = filtered.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => (deleteBefore(a, b, now) ? -1 : deleteBefore(b, a, now) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}
