import { type JobPod, terminatedAt } from './job-types.js';

/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff (pkg/controller/job/job_controller.go). */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

/** backoffRecord (pkg/controller/job/backoff_utils.go): failures since the last success, and when the latest was. */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/**
 * getFinishedTime: when a terminated pod finished — its containers' latest finishedAt, else
 * its deletion, else `now` (a pod whose end time we cannot read).
 */
export function podFinishedTime(p: JobPod, now: number): number {
  const ends = terminatedAt(p)
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  if (ends.length > 0) return Math.max(...ends);
  const deleted = Date.parse(p.metadata.deletionTimestamp ?? '');
  return Number.isNaN(deleted) ? now : deleted;
}

/**
 * newBackoffRecord: folds the pods newly counted into the record. A success resets the
 * count to the failures that finished after the latest success.
 */
export function nextBackoffRecord(
  old: BackoffRecord,
  newSucceeded: JobPod[],
  newFailed: JobPod[],
  now: number,
): BackoffRecord {
  if (newSucceeded.length === 0 && newFailed.length === 0) return old;
  const failedAt = newFailed.map((p) => podFinishedTime(p, now));
  if (newSucceeded.length === 0)
    return {
      failuresAfterLastSuccess: old.failuresAfterLastSuccess + newFailed.length,
      lastFailureTime: Math.max(old.lastFailureTime ?? 0, ...failedAt),
    };
  const lastSuccess = Math.max(...newSucceeded.map((p) => podFinishedTime(p, now)));
  const after = failedAt.filter((t) => t > lastSuccess);
  return after.length === 0
    ? { failuresAfterLastSuccess: 0 }
    : { failuresAfterLastSuccess: after.length, lastFailureTime: Math.max(...after) };
}

/**
 * getRemainingTime: how long before a replacement pod may be created — base·2^(failures−1),
 * capped, counted from the latest failure; 0 when there were no failures.
 */
export function remainingBackoffMs(r: BackoffRecord, now: number, baseMs: number, maxMs: number): number {
  if (r.failuresAfterLastSuccess === 0 || r.lastFailureTime === undefined) return 0;
  const backoff = Math.min(baseMs * 2 ** (r.failuresAfterLastSuccess - 1), maxMs);
  return Math.max(0, backoff - Math.max(0, now - r.lastFailureTime));
}

/**
 * pastBackoffLimitOnFailure: with restartPolicy OnFailure the kubelet restarts containers in
 * place, so the restarts of the active pods count as failures.
 */
export function pastBackoffLimitOnFailure(
  restartPolicy: string | undefined,
  backoffLimit: number,
  active: JobPod[],
): boolean {
  if (restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of active)
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
      restarts += c.restartCount ?? 0;
  if (backoffLimit === 0) return restarts > 0;
  return restarts >= backoffLimit;
}
