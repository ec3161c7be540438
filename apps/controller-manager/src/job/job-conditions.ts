import { type JobCondition } from './job-types.js';

/** newCondition: a condition probed and transitioned now. */
export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): JobCondition {
  return { type, status, reason, message, lastProbeTime: now, lastTransitionTime: now };
}

/**
 * ensureJobConditionStatus: sets the condition of that type (adding it only when it would be
 * True, as upstream does not add a False condition that never was), keeping the transition
 * time when the status does not change. Returns the new list and whether it changed.
 */
export function ensureCondition(
  list: JobCondition[] | undefined,
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): [JobCondition[], boolean] {
  const conditions = list ?? [];
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) {
    if (status !== 'True') return [conditions, false];
    return [[...conditions, newCondition(type, status, reason, message, now)], true];
  }
  const cur = conditions[i];
  if (cur.status === status && cur.reason === reason && cur.message === message) return [conditions, false];
  const next = {
    ...cur,
    status,
    reason,
    message,
    lastProbeTime: now,
    lastTransitionTime: cur.status === status ? cur.lastTransitionTime : now,
  };
  return [conditions.map((c, j) => (j === i ? next : c)), true];
}

export const conditionTrue = (list: JobCondition[] | undefined, type: string): JobCondition | undefined =>
  list?.find((c) => c.type === type && c.status === 'True');
