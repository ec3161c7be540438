/**
 * endpointslicepkg.StaleInformerCache: the informer has not yet shown this controller its own
 * last write. Not a failure: the key is retried with backoff (and sooner by any pod change).
 */
export class StaleInformerCache extends Error {
  override readonly name = 'StaleInformerCache';
}
