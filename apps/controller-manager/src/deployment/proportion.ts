import {
  type Deployment,
  desiredOf,
  isRollingUpdate,
  MAX_REPLICAS_ANNOTATION,
  type ReplicaSet,
  replicasOf,
} from './deployment-types.js';
import { maxSurge } from './fenceposts.js';
import {
  activeSets,
  bySizeNewer,
  bySizeOlder,
  findActiveOrLatest,
  isSaturated,
  specReplicas,
} from './replica-sets.js';

/** integer.RoundToInt32 is Go's math.Round: halves away from zero (JS rounds -2.5 to -2). */
export const roundHalfAwayFromZero = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/**
 * getReplicaSetFraction (deployment_util.go): the replicas this set would have at the
 * Deployment's new size, scaled from the size it was annotated with (max-replicas), less its
 * current size. Scaling to 0 takes all of it.
 */
export function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const desired = desiredOf(d);
  if (desired === 0) return -replicasOf(rs);
  const deploymentReplicas = desired + maxSurge(d);
  const annotated = Number.parseInt(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? '', 10);
  // Without the annotation upstream falls back on the current size: inexact, but min/max in
  // replicaSetProportion keep it within bounds.
  const from = Number.isNaN(annotated) ? (d.status?.replicas ?? 0) : annotated;
  return roundHalfAwayFromZero((replicasOf(rs) * deploymentReplicas) / from) - replicasOf(rs);
}

/** GetProportion: this set's share of `toAdd`, never past what is left to add (or remove). */
export function replicaSetProportion(
  rs: ReplicaSet | undefined,
  d: Deployment,
  toAdd: number,
  added: number,
): number {
  if (!rs || replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export interface ScaleStep {
  rs: ReplicaSet;
  replicas: number;
  /**
   * A step of the proportional spread: written even at the same size, so that the sets'
   * desired/max-replicas annotations follow the new size (else the resize is seen again and again).
   */
  proportional?: boolean;
  /** The direction its event names (the spread's); undefined: from the sizes. */
  operation?: 'up' | 'down';
}

/**
 * scale (sync.go) as a plan: one active set (or none: the newest) takes the full size; a
 * saturated new set means the old ones go to 0; otherwise, during a RollingUpdate, the
 * difference to desired+maxSurge is spread over the active sets in proportion to their size,
 * the largest first (newer first when growing, older first when shrinking), the rounding
 * leftover going to the first.
 */
export function planScale(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ScaleStep[] {
  const desired = desiredOf(d);
  const only = findActiveOrLatest(newRS, oldRSs);
  if (only) return replicasOf(only) === desired ? [] : [{ rs: only, replicas: desired }];
  if (isSaturated(d, newRS)) return activeSets(oldRSs).map((rs) => ({ rs, replicas: 0 }));
  if (!isRollingUpdate(d)) return [];
  const all = activeSets([...oldRSs, newRS]);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - specReplicas(all);
  let operation: 'up' | 'down' | undefined;
  if (toAdd > 0) {
    all.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return replicasOf(rs);
    const p = replicaSetProportion(rs, d, toAdd, added);
    added += p;
    return replicasOf(rs) + p;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0] + toAdd - added);
  return all.map((rs, i) => ({ rs, replicas: sizes[i], proportional: true, operation }));
}
