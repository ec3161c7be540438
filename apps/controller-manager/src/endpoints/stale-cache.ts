/**
 * endpointslicepkg.StaleInformerCache: the informer has not yet shown this controller its own
 * last write. Not a failure — the key is retried with backoff — so it is not reported.
 */
export class StaleInformerCache extends Error {
  override readonly name = 'StaleInformerCache';
}

/** Reports what a worker met, except a stale cache (upstream logs that at V(2) only). */
export function reportTrouble(onTrouble: ((e: Error, key?: string) => void) | undefined) {
  return (e: Error, key: string) => {
    if (!(e instanceof StaleInformerCache)) onTrouble?.(e, key);
  };
}
