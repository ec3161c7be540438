import { type WorkQueue } from '@app/client';

/**
 * endpointslicepkg.StaleInformerCache: the informer has not yet shown this controller its own
 * last write. Not a failure: the key is retried with backoff (and sooner by any pod change).
 */
export class StaleInformerCache extends Error {
  override readonly name = 'StaleInformerCache';
}

/**
 * Keys whose sync found the informer behind this controller's own write. Retried with the
 * queue's backoff as upstream does — but under churn every sync writes and the next one finds
 * the cache behind again, so the backoff doubled with no success between, and a key could wait
 * a minute after the churn had stopped. The informer delivering a change of the key's output is
 * when the cache may have caught up: the key is queued at once then; the backoff stays the
 * fallback for a change that never comes.
 */
export class CacheWaits {
  private readonly keys = new Set<string>();

  constructor(private readonly queue: WorkQueue<string>) {}

  /** `key`'s sync found the cache stale. */
  wait(key: string): void {
    this.keys.add(key);
    this.queue.addRateLimited(key);
  }

  /** The informer delivered a change of `key`'s output (its Endpoints, one of its slices). */
  delivered(key: string): void {
    if (this.keys.delete(key)) this.queue.add(key);
  }
}
