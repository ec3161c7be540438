import { type Deployment, desiredOf, type ReplicaSet, replicasOf } from './deployment-types.js';
import { maxUnavailable, newRSNewReplicas } from './fenceposts.js';
import { availableReplicas, byCreation, specReplicas, surgeReplicas } from './replica-sets.js';

const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;

/**
 * reconcileNewReplicaSet (rolling.go): the new set's next size — desired if it is above it,
 * else grown as far as maxSurge allows — or undefined when it stays as it is.
 */
export function newReplicaSetTarget(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): number | undefined {
  const desired = desiredOf(d);
  const current = replicasOf(newRS);
  if (current === desired) return undefined;
  if (current > desired) return desired;
  const next = newRSNewReplicas(d, surgeReplicas(allRSs), current);
  return next === current ? undefined : next;
}

export type ScaleDownStep = { rs: ReplicaSet; replicas: number };

/**
 * cleanupUnhealthyReplicas (rolling.go): up to maxCleanupCount unavailable old replicas
 * removed, oldest set first. Removing them cannot lower availability, and left alone they
 * would block the rollout (kubernetes#16737).
 */
export function cleanupUnhealthyReplicas(
  oldRSs: readonly ReplicaSet[],
  maxCleanupCount: number,
): ScaleDownStep[] {
  const steps: ScaleDownStep[] = [];
  let cleaned = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (cleaned >= maxCleanupCount) break;
    const size = replicasOf(rs);
    if (size === 0 || size === available(rs)) continue;
    const n = Math.min(maxCleanupCount - cleaned, size - available(rs));
    // A status that still counts pods the set was just scaled down from (available > size)
    // would make this a scale-up: upstream refuses it, and the sync retries on fresher caches.
    if (size - n > size)
      throw new Error(
        `when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${size} -> ${size - n}`,
      );
    steps.push({ rs, replicas: size - n });
    cleaned += n;
  }
  return steps;
}

/**
 * scaleDownOldReplicaSetsForRollingUpdate (rolling.go): old sets shrunk, oldest first, by as
 * many pods as are available above desired−maxUnavailable (counted over all the sets).
 */
export function scaleDownOldReplicaSets(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
): ScaleDownStep[] {
  const minAvailable = desiredOf(d) - maxUnavailable(d);
  const availableNow = availableReplicas(allRSs);
  if (availableNow <= minAvailable) return [];
  const total = availableNow - minAvailable;
  const steps: ScaleDownStep[] = [];
  let scaledDown = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (scaledDown >= total) break;
    const size = replicasOf(rs);
    if (size === 0) continue;
    const n = Math.min(size, total - scaledDown);
    steps.push({ rs, replicas: size - n });
    scaledDown += n;
  }
  return steps;
}

/**
 * reconcileOldReplicaSets (rolling.go) as a plan: how far the old sets may shrink without
 * going under desired−maxUnavailable available pods — unavailable replicas first, then
 * available ones. Returns each old set's new size, in write order.
 */
export function oldReplicaSetsScaleDown(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): ScaleDownStep[] {
  if (specReplicas(oldRSs) === 0) return [];
  const minAvailable = desiredOf(d) - maxUnavailable(d);
  const newRSUnavailable = replicasOf(newRS) - available(newRS);
  const maxScaledDown = specReplicas(allRSs) - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return [];
  const cleanup = cleanupUnhealthyReplicas(oldRSs, maxScaledDown);
  // The sets as cleaned up: new sizes, the same status (the available count is unchanged).
  const cleaned = oldRSs.map((rs) => {
    const step = cleanup.find((s) => s.rs === rs);
    return step ? { ...rs, spec: { ...rs.spec, replicas: step.replicas } } : rs;
  });
  return [...cleanup, ...scaleDownOldReplicaSets(d, [...cleaned, newRS], cleaned)];
}
