import { ApiError } from './api-client.js';

/**
 * client-go's `retry.RetryOnConflict` for a read-modify-write: `write` is given `current`, and
 * when the server answers 409 Conflict (someone wrote the object since it was read) the object
 * is read again with `reread` and `write` given that, up to `attempts` writes in all. Any other
 * error, the last attempt's conflict, and a failed re-read are thrown.
 *
 * No sleep between attempts, unlike client-go's DefaultRetry (10 ms): a conflict means the
 * object moved, so the fresh read is what the next attempt needs, and a controller's writes
 * are few. Unbounded by default, as upstream's namespace deleter retries.
 */
export async function retryOnConflict<T, R>(
  current: T,
  reread: () => Promise<T>,
  write: (current: T) => Promise<R>,
  attempts = Infinity,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(current);
    } catch (e) {
      if (!ApiError.isConflict(e) || attempt >= attempts) throw e;
      current = await reread();
    }
  }
}
