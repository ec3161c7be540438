import { isStatusError, type StatusError } from '@app/api';

/** Runs `fn` and returns the Kubernetes StatusError it throws; fails if it throws nothing or something else. */
export function thrownStatus(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (isStatusError(e)) return e;
    throw e;
  }
  throw new Error('expected a StatusError to be thrown');
}

/** The exact Kubernetes Status body of a failure, spelled out for assertions. */
export function failureStatus(reason: string, code: number, message: string, details?: object): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  };
}
