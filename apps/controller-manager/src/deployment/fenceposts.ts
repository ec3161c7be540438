import { type Deployment, desiredOf, type IntOrPercent, isRollingUpdate } from './deployment-types.js';

/**
 * intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down.
 * Validation keeps other strings out; one that slips through is an error, as upstream.
 */
export function scaledValue(v: IntOrPercent | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}"`);
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * ResolveFenceposts (deployment_util.go): surge rounds up, unavailable rounds down; both
 * resolving to 0 (rounding, since validation refuses explicit zeros) makes unavailable 1 so
 * that the rollout can move at all.
 */
export function resolveFenceposts(
  maxSurge: IntOrPercent | undefined,
  maxUnavailable: IntOrPercent | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment) {
  const r = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(r?.maxSurge, r?.maxUnavailable, desiredOf(d));
}

/** MaxUnavailable: 0 for Recreate or 0 replicas, never above the replicas. */
export function maxUnavailable(d: Deployment): number {
  const desired = desiredOf(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

/** MaxSurge: 0 for Recreate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/**
 * NewRSNewReplicas: RollingUpdate grows the new set up to desired+maxSurge pods in all (never
 * past desired for itself); Recreate goes straight to desired.
 */
export function newRSNewReplicas(d: Deployment, allReplicas: number, newRSReplicas: number): number {
  const desired = desiredOf(d);
  if (!isRollingUpdate(d)) return desired;
  const maxTotal = desired + scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge, desired, true);
  if (allReplicas >= maxTotal) return newRSReplicas;
  return newRSReplicas + Math.min(maxTotal - allReplicas, desired - newRSReplicas);
}
