import { toleratesTaint } from '../../../scheduler/src/framework/taints.js';
import { type Taint, type Toleration } from '../node-lifecycle/node-types.js';

/** A toleration as pods carry it: tolerationSeconds bounds how long a NoExecute taint is tolerated. */
export type PodToleration = Toleration & { tolerationSeconds?: number | null };

/** getNoExecuteTaints (taint_eviction.go). */
export function noExecuteTaints(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/**
 * v1helper.GetMatchingTolerations: whether every taint is tolerated, and for each taint the
 * first toleration that tolerates it.
 */
export function matchingTolerations(
  taints: readonly Taint[],
  tolerations: readonly PodToleration[],
): { allTolerated: boolean; used: PodToleration[] } {
  if (taints.length === 0) return { allTolerated: true, used: [] };
  const used: PodToleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { allTolerated: false, used: [] };
    used.push(t);
  }
  return { allTolerated: true, used };
}

/**
 * getMinTolerationTime: the shortest tolerationSeconds among the tolerations used, in ms; 0
 * when there are none or one is ≤ 0; -1 (forever) when none sets a limit.
 */
export function minTolerationMs(tolerations: readonly PodToleration[]): number {
  if (tolerations.length === 0) return 0;
  let min = Infinity;
  for (const t of tolerations) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}
