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
