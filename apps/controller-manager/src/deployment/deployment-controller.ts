import { type LabelSelectorObject, matchesLabels } from '@app/api';
import {
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  type WorkQueueMetrics,
  type ApiClient,
} from '@app/client';

import { QueueController } from '../controller.js';
import { controllerOf, type Pod } from '../replicaset/pod-types.js';
import { safeSelector } from '../replicaset/replica-kind.js';
import { type Deployment, type ReplicaSet } from './deployment-types.js';
import { DEPLOYMENT, DeploymentSync } from './deployment-sync.js';

export interface DeploymentControllerOptions {
  api: ApiClient;
  deployments: Informer<Deployment>;
  /** The shared ReplicaSet and pod informers, indexed by namespace. */
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
  events: EventRecorder;
  /** --concurrent-deployment-syncs (upstream default 5). */
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  now?: () => number;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The Deployment controller (pkg/controller/deployment/deployment_controller.go): Deployment
 * and ReplicaSet changes enqueue the Deployment's key, a pod deleted from a Recreate
 * Deployment too (it waits for the old pods to be gone); a worker reconciles it
 * (DeploymentSync), requeueing with the rate limiter's backoff on error and at the progress
 * deadline. Upstream keeps no expectations here: a stale cache means a write that conflicts,
 * and a retry.
 */
export class DeploymentController extends QueueController {
  readonly name = 'deployment';
  /**
   * Per Deployment key, the versions its last syncs wrote ("deployment" or "replicaset/ns/name"
   * → resourceVersion). A sync waits until the caches show them: run on an older copy, each of
   * its writes would only conflict (upstream retries those; this skips the round trip).
   */
  private readonly awaited = new Map<string, Map<string, number>>();

  constructor(private readonly o: DeploymentControllerOptions) {
    super({
      queueName: 'deployment',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    o.deployments.onChange((c) => this.queue.add(objectKey(c.object)));
    o.replicaSets.onChange((c) => this.replicaSetChanged(c));
    o.pods.onChange((c) => this.podChanged(c));
  }

  protected enqueueAll(): void {
    for (const d of this.o.deployments.cache.list()) this.queue.add(objectKey(d));
  }

  async sync(key: string): Promise<void> {
    const d = this.o.deployments.cache.get(key);
    if (!d) {
      this.awaited.delete(key);
      return;
    }
    // The informer's news of our own write enqueues this key again.
    if (!this.cachesCaughtUp(key)) return;
    await new DeploymentSync(
      {
        api: this.o.api,
        events: this.o.events,
        replicaSetsIn: (ns) => this.o.replicaSets.cache.byIndex('namespace', ns),
        podsIn: (ns) => this.o.pods.cache.byIndex('namespace', ns),
        requeue: (ms) => (ms > 0 ? this.queue.addAfter(key, ms) : this.queue.addRateLimited(key)),
        wrote: (kind, objectKey, rv) => {
          const versions = this.awaited.get(key) ?? new Map<string, number>();
          versions.set(kind === 'deployment' ? kind : `${kind}/${objectKey}`, rv);
          this.awaited.set(key, versions);
        },
        now: this.o.now ?? Date.now,
      },
      d,
    ).run();
  }

  /**
   * True when the caches hold every version this Deployment's syncs wrote (or the object is
   * gone from them: deleted, or a created set not seen yet — which a create then finds).
   */
  private cachesCaughtUp(key: string): boolean {
    const versions = this.awaited.get(key);
    if (!versions) return true;
    for (const [what, rv] of versions) {
      const cached =
        what === 'deployment'
          ? this.o.deployments.cache.get(key)
          : this.o.replicaSets.cache.get(what.slice('replicaset/'.length));
      if (cached && Number(cached.metadata.resourceVersion) < rv) return false;
      versions.delete(what);
    }
    this.awaited.delete(key);
    return true;
  }

  // --- addReplicaSet / updateReplicaSet / deleteReplicaSet / deletePod ---

  private replicaSetChanged(c: CacheChange<ReplicaSet>): void {
    const rs = c.object;
    const owner = this.resolve(rs);
    if (c.type !== 'added' && c.type !== 'deleted') {
      const old = this.resolve(c.old);
      if (old && controllerOf(c.old)?.uid !== controllerOf(rs)?.uid) this.queue.add(objectKey(old));
    }
    if (owner) return this.queue.add(objectKey(owner));
    if (c.type === 'deleted' || controllerOf(rs)) return;
    // An orphan: the Deployments that could adopt it (getDeploymentsForReplicaSet).
    const changedLabels =
      c.type === 'added' ||
      JSON.stringify(c.old.metadata.labels ?? {}) !== JSON.stringify(rs.metadata.labels ?? {}) ||
      controllerOf(c.old) !== undefined;
    if (!changedLabels) return;
    for (const d of this.o.deployments.cache.byIndex('namespace', rs.metadata.namespace ?? ''))
      if (
        matchesLabels(safeSelector(d.spec?.selector as LabelSelectorObject | undefined), rs.metadata.labels)
      )
        this.queue.add(objectKey(d));
  }

  /**
   * deletePod: a Recreate Deployment waits for its old pods to be gone. Upstream enqueues only
   * once the count reaches 0; enqueueing on every deletion is the same reconcile, run sooner.
   */
  private podChanged(c: CacheChange<Pod>): void {
    if (c.type !== 'deleted') return;
    const ref = controllerOf(c.object);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.o.replicaSets.cache.get(`${c.object.metadata.namespace}/${ref.name}`);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const d = this.resolve(rs);
    if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }

  /** resolveControllerRef: the Deployment in our cache that controls this set. */
  private resolve(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerOf(rs);
    if (!ref || ref.kind !== DEPLOYMENT.kind) return undefined;
    const d = this.o.deployments.cache.get(`${rs.metadata.namespace}/${ref.name}`);
    return d?.metadata.uid === ref.uid ? d : undefined;
  }
}
