import { type WorkQueue } from '@app/client';

/**
 * endpointslicepkg.StaleInformerCache: the informer has not yet shown this controller its own
 * last write. Not a failure — the key is retried with backoff — so it is reported only once a
 * key has been retried maxRetries times in a row.
 */
export class StaleInformerCache extends Error {
  override readonly name = 'StaleInformerCache';
}

/** maxRetries of both endpoints controllers: past it, even a stale cache is worth a report. */
const MAX_RETRIES = 15;

/** Reports what a worker met, except a stale cache that has not lasted (upstream logs it at V(2) only). */
export function reportTrouble(
  queue: WorkQueue<string>,
  onTrouble: ((e: Error, key?: string) => void) | undefined,
) {
  return (e: Error, key: string) => {
    if (!(e instanceof StaleInformerCache) || queue.retries(key) >= MAX_RETRIES) onTrouble?.(e, key);
  };
}
