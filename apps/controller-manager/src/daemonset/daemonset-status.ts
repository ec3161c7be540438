import { isPodAvailable, isPodReady, type Pod } from '../replicaset/pod-types.js';
import { byCreationTimestampAndPhase, isPodUpdated } from './daemon-pods.js';
import { type DaemonSet, type DaemonSetStatus } from './daemonset-types.js';
import { type Eligibility } from './node-eligibility.js';

export type DaemonSetCounts = Required<
  Pick<
    DaemonSetStatus,
    | 'desiredNumberScheduled'
    | 'currentNumberScheduled'
    | 'numberMisscheduled'
    | 'numberReady'
    | 'updatedNumberScheduled'
    | 'numberAvailable'
    | 'numberUnavailable'
  >
>;

/**
 * updateDaemonSetStatus's counts (daemon_controller.go): per node that should run the
 * DaemonSet, whether it has a daemon pod, and whether its oldest one is ready, available and
 * of the current revision; nodes that should not run it but have one are misscheduled.
 */
export function calculateCounts(
  ds: DaemonSet,
  nodes: readonly { name: string; eligibility: Eligibility }[],
  nodeToPods: ReadonlyMap<string, readonly Pod[]>,
  hash: string,
  generation: number | undefined,
  now: number,
): DaemonSetCounts {
  const c: DaemonSetCounts = {
    desiredNumberScheduled: 0,
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
  };
  const minReady = ds.spec?.minReadySeconds ?? 0;
  for (const { name, eligibility } of nodes) {
    const pods = nodeToPods.get(name) ?? [];
    if (!eligibility.shouldRun) {
      if (pods.length > 0) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (pods.length === 0) continue;
    c.currentNumberScheduled++;
    const oldest = [...pods].sort(byCreationTimestampAndPhase)[0];
    if (isPodReady(oldest)) {
      c.numberReady++;
      if (isPodAvailable(oldest, minReady, now)) c.numberAvailable++;
    }
    if (isPodUpdated(oldest, hash, generation)) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}

/** storeDaemonSetStatus's short cut: every count as stored and the generation observed. */
export function statusUpToDate(ds: DaemonSet, counts: DaemonSetCounts, updateObservedGen: boolean): boolean {
  const cur = ds.status ?? {};
  if (updateObservedGen && (cur.observedGeneration ?? 0) < (ds.metadata.generation ?? 0)) return false;
  return (Object.keys(counts) as (keyof DaemonSetCounts)[]).every((k) => (cur[k] ?? 0) === counts[k]);
}
