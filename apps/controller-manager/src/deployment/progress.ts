import {
  AVAILABLE,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  desiredOf,
  PROGRESSING,
  REASON,
  REPLICA_FAILURE,
  type ReplicaSet,
} from './deployment-types.js';
import { maxUnavailable } from './fenceposts.js';
import { actualReplicas, availableReplicas, readyReplicas, specReplicas } from './replica-sets.js';

/** metav1.Time: RFC 3339 to the second. */
export const metaTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** math.MaxInt32 progressDeadlineSeconds means none (HasProgressDeadline). */
export const hasProgressDeadline = (d: Deployment): boolean =>
  d.spec?.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== 2147483647;

export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: DeploymentCondition['status'],
  reason: string,
  message: string,
  now: number,
): DeploymentCondition {
  const at = metaTime(now);
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message };
}

/**
 * SetDeploymentCondition: a condition with the same status and reason is left as it is;
 * the same status keeps its lastTransitionTime; the condition goes last.
 */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = cur && cur.status === c.status ? { ...c, lastTransitionTime: cur.lastTransitionTime } : c;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** DeploymentComplete: all replicas updated and available, the latest spec observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const desired = desiredOf(d);
  return (
    s.updatedReplicas === desired &&
    s.replicas === desired &&
    s.availableReplicas === desired &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: more updated, ready or available replicas, or fewer old ones, than last time. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/**
 * DeploymentTimedOut: no progress reported for progressDeadlineSeconds since the Progressing
 * condition's lastUpdateTime (never after a completed rollout; always once timed out).
 */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, PROGRESSING);
  if (!c) return false;
  if (c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/** calculateStatus (sync.go): counts over the sets, and Available by minimum availability. */
export function calculateStatus(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  now: number,
): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const unavailable = Math.max(0, specReplicas(allRSs) - available);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicas(allRSs),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: unavailable,
    collisionCount: d.status?.collisionCount,
    conditions: [...(d.status?.conditions ?? [])],
  };
  if (available >= desiredOf(d) - maxUnavailable(d))
    setCondition(
      status,
      newCondition(AVAILABLE, 'True', REASON.minimumAvailable, 'Deployment has minimum availability.', now),
    );
  else
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        'False',
        REASON.minimumUnavailable,
        'Deployment does not have minimum availability.',
        now,
      ),
    );
  return status;
}

/** getReplicaFailures: the new set's ReplicaFailure conditions, else the others'. */
function replicaFailure(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): DeploymentCondition | undefined {
  for (const sets of [[newRS], allRSs])
    for (const rs of sets)
      for (const c of rs?.status?.conditions ?? [])
        if (c.type === REPLICA_FAILURE)
          return {
            type: c.type,
            status: c.status as DeploymentCondition['status'],
            lastTransitionTime: c.lastTransitionTime,
            lastUpdateTime: c.lastTransitionTime,
            reason: c.reason,
            message: c.message,
          };
  return undefined;
}

/**
 * syncRolloutStatus's status (progress.go): calculateStatus, then — unless the rollout already
 * completed — Progressing set to NewReplicaSetAvailable on completion, refreshed as
 * ReplicaSetUpdated on progress (keeping its transition time), or ProgressDeadlineExceeded
 * once timed out; ReplicaFailure mirrored from the sets.
 */
export function rolloutStatus(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  now: number,
): DeploymentStatus {
  const s = calculateStatus(d, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) removeCondition(s, PROGRESSING);
  const current = getCondition(d.status, PROGRESSING);
  const complete = s.replicas === s.updatedReplicas && current?.reason === REASON.newRSAvailable;
  const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      setCondition(
        s,
        newCondition(
          PROGRESSING,
          'True',
          REASON.newRSAvailable,
          `${subject} has successfully progressed.`,
          now,
        ),
      );
    } else if (deploymentProgressing(d, s)) {
      let c = newCondition(PROGRESSING, 'True', REASON.rsUpdated, `${subject} is progressing.`, now);
      if (current) {
        if (current.status === 'True') c = { ...c, lastTransitionTime: current.lastTransitionTime };
        removeCondition(s, PROGRESSING);
      }
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, now)) {
      setCondition(
        s,
        newCondition(PROGRESSING, 'False', REASON.timedOut, `${subject} has timed out progressing.`, now),
      );
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(s, failure);
  else removeCondition(s, REPLICA_FAILURE);
  return s;
}

/**
 * requeueStuckDeployment: ms until the progress deadline passes (plus a second), so that the
 * Deployment is looked at again then; 0 for "now, rate limited"; undefined when there is
 * nothing to wait for (no deadline, no Progressing condition, complete or timed out).
 */
export function progressRequeueMs(d: Deployment, s: DeploymentStatus, now: number): number | undefined {
  const c = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !c) return undefined;
  if (deploymentComplete(d, s) || c.reason === REASON.timedOut) return undefined;
  const after = Date.parse(c.lastUpdateTime ?? '') + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - now;
  return after < 1000 ? 0 : after + 1000;
}

/**
 * checkPausedConditions (sync.go): pausing sets Progressing Unknown/DeploymentPaused, resuming
 * Unknown/DeploymentResumed, unless a timeout was already reported. Returns the new status,
 * or undefined when nothing changes.
 */
export function pausedConditionStatus(d: Deployment, now: number): DeploymentStatus | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const c = getCondition(d.status, PROGRESSING);
  if (c?.reason === REASON.timedOut) return undefined;
  const pausedExists = c?.reason === REASON.paused;
  const status: DeploymentStatus = { ...d.status, conditions: [...(d.status?.conditions ?? [])] };
  if (d.spec?.paused && !pausedExists)
    setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.paused, 'Deployment is paused', now));
  else if (!d.spec?.paused && pausedExists)
    setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.resumed, 'Deployment is resumed', now));
  else return undefined;
  return status;
}
