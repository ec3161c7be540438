import { JOB_COMPLETION_INDEX, type JobPod } from './job-types.js';

/**
 * Indexed Jobs' index bookkeeping (pkg/controller/job/indexed_job_utils.go): a set of
 * completion indexes kept as sorted, disjoint, non-adjacent intervals, written to
 * status.completedIndexes as "1,3-5,7".
 */
export type IndexIntervals = [number, number][];

/** The pod's completion index (annotation, else label), or undefined when missing or invalid. */
export function completionIndex(p: JobPod): number | undefined {
  const raw = p.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? p.metadata.labels?.[JOB_COMPLETION_INDEX];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** parseIndexesFromString: intervals below `completions`; malformed parts are skipped. */
export function parseIndexes(s: string | undefined, completions: number): IndexIntervals {
  const out: number[] = [];
  for (const part of (s ?? '').split(',')) {
    if (part === '') continue;
    const [a, b = a] = part.split('-');
    if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) continue;
    for (let i = Number(a); i <= Math.min(Number(b), completions - 1); i++) out.push(i);
  }
  return toIntervals(out);
}

/** Sorted, merged intervals of the given indexes. */
export function toIntervals(indexes: Iterable<number>): IndexIntervals {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const out: IndexIntervals = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && last[1] + 1 === i) last[1] = i;
    else out.push([i, i]);
  }
  return out;
}

export const formatIndexes = (iv: IndexIntervals): string =>
  iv.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');

export const totalIndexes = (iv: IndexIntervals): number => iv.reduce((n, [a, b]) => n + b - a + 1, 0);

export const hasIndex = (iv: IndexIntervals, i: number): boolean => iv.some(([a, b]) => a <= i && i <= b);

export function* eachIndex(iv: IndexIntervals): Generator<number> {
  for (const [a, b] of iv) for (let i = a; i <= b; i++) yield i;
}

/**
 * firstPendingIndexes: the `count` lowest indexes below `completions` that neither succeeded
 * nor have an active pod.
 */
export function firstPendingIndexes(
  succeeded: IndexIntervals,
  activeIndexes: ReadonlySet<number>,
  count: number,
  completions: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++)
    if (!activeIndexes.has(i) && !hasIndex(succeeded, i)) out.push(i);
  return out;
}

/**
 * appendDuplicatedIndexPodsForRemoval's rule (activePodsForRemoval): active pods with no valid
 * index, an index ≥ completions, an index already succeeded, or a second pod on one index go first.
 */
export function surplusIndexedPods(
  active: JobPod[],
  succeeded: IndexIntervals,
  completions: number,
): JobPod[] {
  const seen = new Set<number>();
  const out: JobPod[] = [];
  for (const p of active) {
    const i = completionIndex(p);
    if (i === undefined || i >= completions || hasIndex(succeeded, i) || seen.has(i)) out.push(p);
    else seen.add(i);
  }
  return out;
}
