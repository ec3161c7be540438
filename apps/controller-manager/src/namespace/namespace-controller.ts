import {
  type CacheChange,
  type Informer,
  objectKey,
  type RateLimiter,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import { type NamespacedResourcesDeleter, ResourcesRemainingError } from './namespaced-resources-deleter.js';
import { type Namespace } from './namespace-types.js';

/**
 * upstream's namespaceDeletionGracePeriod: a deleted namespace is looked at after this long, so
 * objects created at the last moment (seen late by other API servers) are caught too.
 */
export const NAMESPACE_DELETION_GRACE_PERIOD_MS = 5000;

export interface NamespaceControllerOptions {
  namespaces: Informer<Namespace>;
  deleter: NamespacedResourcesDeleter;
  /** --concurrent-namespace-syncs (upstream default 10). */
  workers?: number;
  deletionGracePeriodMs?: number;
  /** upstream's nsControllerRateLimiter: 5 ms → 60 s per namespace, 10/s overall. */
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The namespace controller (pkg/controller/namespace/namespace_controller.go): a namespace with
 * a deletionTimestamp is queued; a worker empties it with the NamespacedResourcesDeleter, which
 * takes the `kubernetes` finalizer off once nothing is left. While content is still going away
 * the namespace is looked at again after half the estimate; on errors, with backoff.
 */
export class NamespaceController extends QueueController {
  readonly name = 'namespace';

  constructor(private readonly o: NamespaceControllerOptions) {
    super({
      queueName: 'namespace',
      workers: o.workers ?? 10,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    o.namespaces.onChange((c) => this.namespaceChanged(c));
  }

  protected enqueueAll(): void {
    for (const ns of this.o.namespaces.cache.list()) this.enqueue(ns);
  }

  private namespaceChanged(c: CacheChange<Namespace>): void {
    if (c.type !== 'deleted') this.enqueue(c.object);
  }

  /** enqueueNamespace: only namespaces being deleted, after the deletion grace period. */
  private enqueue(ns: Namespace): void {
    if (!ns.metadata.deletionTimestamp) return;
    this.queue.addAfter(objectKey(ns), this.o.deletionGracePeriodMs ?? NAMESPACE_DELETION_GRACE_PERIOD_MS);
  }

  /** Content still going away: looked at again after half its estimate, not with backoff. */
  protected override requeue(e: unknown, key: string): void {
    if (e instanceof ResourcesRemainingError)
      this.queue.addAfter(key, (Math.floor(e.estimate / 2) + 1) * 1000);
    else super.requeue(e, key);
  }

  /** syncNamespaceFromKey: gone from the cache means done; otherwise the deleter works on it. */
  async sync(key: string): Promise<void> {
    if (!this.o.namespaces.cache.get(key)) return;
    await this.o.deleter.delete(key);
  }
}
