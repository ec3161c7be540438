import { type Deployment, desiredOf, type ReplicaSet, replicasOf } from './deployment-types.js';
import { maxUnavailable, newRSNewReplicas } from './fenceposts.js';
import { availableReplicas, byCreation, specReplicas } from './replica-sets.js';

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
  const next = newRSNewReplicas(d, specReplicas(allRSs), current);
  return next === current ? undefined : next;
}

/**
 * reconcileOldReplicaSets (rolling.go) as a plan: how far the old sets may shrink without
 * going under desired−maxUnavailable available pods. Unavailable old replicas go first,
 * oldest set first (cleanupUnhealthyReplicas: they cannot lower availability), then
 * available ones oldest set first as far as the available count allows
 * (scaleDownOldReplicaSetsForRollingUpdate). Returns each old set's new size, in write order.
 */
export function oldReplicaSetsScaleDown(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): { rs: ReplicaSet; replicas: number }[] {
  const oldPods = specReplicas(oldRSs);
  if (oldPods === 0) return [];
  const minAvailable = desiredOf(d) - maxUnavailable(d);
  const newRSUnavailable = replicasOf(newRS) - available(newRS);
  const maxScaledDown = specReplicas(allRSs) - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return [];

  const steps: { rs: ReplicaSet; replicas: number }[] = [];
  const sizes = new Map<ReplicaSet, number>();
  const sorted = [...oldRSs].sort(byCreation);
  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxScaledDown) break;
    const size = replicasOf(rs);
    if (size === 0 || size === available(rs)) continue;
    const n = Math.min(maxScaledDown - cleaned, size - available(rs));
    sizes.set(rs, size - n);
    steps.push({ rs, replicas: size - n });
    cleaned += n;
  }

  // The available count is the sets' status: shrinking unavailable replicas left it as it was.
  const availableNow = availableReplicas([...oldRSs, newRS]);
  if (availableNow <= minAvailable) return steps;
  const totalScaleDown = availableNow - minAvailable;
  let scaledDown = 0;
  for (const rs of sorted) {
    if (scaledDown >= totalScaleDown) break;
    const size = sizes.get(rs) ?? replicasOf(rs);
    if (size === 0) continue;
    const n = Math.min(size, totalScaleDown - scaledDown);
    steps.push({ rs, replicas: size - n });
    scaledDown += n;
  }
  return steps;
}
