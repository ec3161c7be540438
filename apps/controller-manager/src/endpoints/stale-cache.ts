/**
 * endpointslicepkg.StaleInformerCache: the informer has not yet shown this controller its own
 * last write. Not a failure: the key is retried with backoff (and sooner by any pod change).
 */
export class StaleInformerCache extends Error {
  override readonly name = 'StaleInformerCache';
}

/**
 * Reports what a worker met, except a stale cache: under pod churn every pod change syncs the
 * Service again, so a cache a few writes behind fails thousands of syncs in a row while it
 * catches up (upstream logs it at V(2) only).
 */
export function reportTrouble(onTrouble: ((e: Error, key?: string) => void) | undefined) {
  return (e: Error, key: string) => {
    if (!(e instanceof StaleInformerCache)) onTrouble?.(e, key);
  };
}
