import { equalityTerm, type LabelSelector, matchesLabels } from '@app/api';
import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  resourcePath,
  selectorCandidates,
  splitKey,
  type WorkQueueMetrics,
  type RateLimiter,
} from '@app/client';

import { QueueController } from '../controller.js';
import { claimPods } from './controller-ref-manager.js';
import { ControllerExpectations } from './expectations.js';
import { controllerOf, isPodActive, isPodReady, type Pod } from './pod-types.js';
import { podsToDelete } from './pod-ranking.js';
import { controllerRef, type ReplicaKind, type ReplicaOwner } from './replica-kind.js';
import { calculateStatus, statusUnchanged } from './replica-status.js';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from './slow-start.js';

/** Upstream's BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;

const POD = { group: '', version: 'v1', plural: 'pods' };

export interface ReplicaControllerOptions {
  kind: ReplicaKind;
  api: ApiClient;
  /** The owners' informer (ReplicaSets or ReplicationControllers), indexed by namespace. */
  owners: Informer<ReplicaOwner>;
  /** The shared pods informer, indexed by namespace. */
  pods: Informer<Pod>;
  events: EventRecorder;
  workers?: number;
  burstReplicas?: number;
  rateLimiter?: RateLimiter<string>;
  expectations?: ControllerExpectations;
  onTrouble?: (e: Error, key?: string) => void;
  /** Told the size of each create batch (tests count slow-start batches). */
  onCreateBatch?: (key: string, size: number) => void;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The ReplicaSet controller (pkg/controller/replicaset/replica_set.go), for ReplicaSets and
 * ReplicationControllers alike: informer changes enqueue the owner's key; a worker syncs it
 * (claim pods → create or delete towards spec.replicas when expectations are satisfied →
 * write status), requeueing with the rate limiter's backoff on error. Every write carries as
 * its cause the resourceVersion (the log seq) of the owner version it reconciled.
 */
export class ReplicaController extends QueueController {
  readonly name: string;
  readonly expectations: ControllerExpectations;

  constructor(private readonly o: ReplicaControllerOptions) {
    super({
      queueName: o.kind.controller,
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.name = o.kind.controller;
    this.expectations = o.expectations ?? new ControllerExpectations();
    o.owners.onChange((c) => this.ownerChanged(c));
    o.pods.onChange((c) => this.podChanged(c));
  }

  protected enqueueAll(): void {
    for (const owner of this.o.owners.cache.list()) this.queue.add(objectKey(owner));
  }

  // --- event handlers (addRS/updateRS/deleteRS, addPod/updatePod/deletePod) ---

  private ownerChanged(c: CacheChange<ReplicaOwner>): void {
    const key = objectKey(c.object);
    if (c.type === 'deleted') this.expectations.delete(key);
    this.queue.add(key);
  }

  private podChanged(c: CacheChange<Pod>): void {
    const pod = c.object;
    if (c.type === 'deleted' || (c.type === 'added' && pod.metadata.deletionTimestamp)) {
      const owner = this.resolve(pod, controllerOf(pod));
      if (!owner) return;
      this.expectations.deletionObserved(objectKey(owner), objectKey(pod));
      this.queue.add(objectKey(owner));
      return;
    }
    if (c.type === 'added') {
      const owner = this.resolve(pod, controllerOf(pod));
      if (owner) {
        this.expectations.creationObserved(objectKey(owner));
        this.queue.add(objectKey(owner));
      } else if (!controllerOf(pod)) for (const o of this.matchingOwners(pod)) this.queue.add(objectKey(o));
      return;
    }
    const old = c.old;
    // A pod marked for deletion is as good as deleted for expectations (upstream's updatePod).
    if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      const owner = this.resolve(pod, controllerOf(pod));
      if (owner) this.expectations.deletionObserved(objectKey(owner), objectKey(pod));
    }
    const labelsChanged =
      JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    const [oldRef, curRef] = [controllerOf(old), controllerOf(pod)];
    const refChanged = oldRef?.uid !== curRef?.uid;
    if (refChanged && oldRef) {
      const prev = this.resolve(old, oldRef);
      if (prev) this.queue.add(objectKey(prev));
    }
    if (curRef) {
      const owner = this.resolve(pod, curRef);
      if (!owner) return;
      this.queue.add(objectKey(owner));
      const minReady = owner.spec?.minReadySeconds ?? 0;
      // It becomes available minReadySeconds after it became ready: look again then.
      if (!isPodReady(old) && isPodReady(pod) && minReady > 0)
        this.queue.addAfter(objectKey(owner), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const o of this.matchingOwners(pod)) this.queue.add(objectKey(o));
  }

  /** resolveControllerRef: the owner in our cache with that name, of our kind and with that uid. */
  private resolve(pod: Pod, ref: ReturnType<typeof controllerOf>): ReplicaOwner | undefined {
    if (!ref || ref.kind !== this.o.kind.kind) return undefined;
    const owner = this.o.owners.cache.get(`${pod.metadata.namespace}/${ref.name}`);
    return owner?.metadata.uid === ref.uid ? owner : undefined;
  }

  /** getPodReplicaSets: the owners in the pod's namespace whose selector matches it. */
  private matchingOwners(pod: Pod): ReplicaOwner[] {
    return this.o.owners.cache
      .byIndex('namespace', pod.metadata.namespace ?? '')
      .filter((o) => matchesLabels(this.o.kind.selector(o), pod.metadata.labels));
  }

  // --- the reconcile (syncReplicaSet) ---

  async sync(key: string): Promise<void> {
    const owner = this.o.owners.cache.get(key);
    if (!owner) {
      this.expectations.delete(key);
      return;
    }
    const cause = Number(owner.metadata.resourceVersion);
    const needsSync = this.expectations.satisfied(key);
    const selector = this.o.kind.selector(owner);
    const { namespace } = splitKey(key);
    const active = this.claimCandidates(owner, namespace, selector).filter(isPodActive);
    const pods = await claimPods(this.o.api, this.o.kind, owner, selector, active, cause);
    let manageError: Error | undefined;
    if (needsSync && !owner.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, owner, pods, cause);
      } catch (e) {
        manageError = e as Error;
      }
    }
    const status = calculateStatus(owner, pods, manageError);
    const updated = await this.writeStatus(owner, status, cause);
    const replicas = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (
      !manageError &&
      minReady > 0 &&
      updated.status?.readyReplicas === replicas &&
      updated.status?.availableReplicas !== replicas
    )
      this.queue.addAfter(key, minReady * 1000);
    if (manageError) throw manageError;
  }

  /**
   * The pods the claim can act on: those the owner controls (kept, or released when they no
   * longer match) and those its selector's first equality term files (orphans to adopt) — not
   * every pod of the namespace, which made each sync cost the namespace (3,000 pods a namespace in
   * the load bench). A cache without the owner index gives the namespace's (and
   * selectorCandidates does without a label index).
   */
  private claimCandidates(owner: ReplicaOwner, namespace: string, selector: LabelSelector): Pod[] {
    const cache = this.o.pods.cache;
    const term = equalityTerm(selector);
    if (!term || !cache.hasIndex('owner')) return cache.byIndex('namespace', namespace);
    return [
      ...new Set([
        ...cache.byIndex('owner', owner.metadata.uid ?? ''),
        ...selectorCandidates(cache, namespace, term),
      ]),
    ];
  }

  private async manageReplicas(key: string, owner: ReplicaOwner, pods: Pod[], cause: number): Promise<void> {
    const burst = this.o.burstReplicas ?? BURST_REPLICAS;
    const diff = pods.length - (owner.spec?.replicas ?? 1);
    if (diff < 0) {
      const want = Math.min(-diff, burst);
      this.expectations.expectCreations(key, want);
      const { successes, error } = await slowStartBatch(
        want,
        SLOW_START_INITIAL_BATCH,
        () => this.createPod(owner, cause),
        (size) => this.o.onCreateBatch?.(key, size),
      );
      // The pods not created will never be observed: lower the expectations by them.
      for (let i = successes; i < want; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff > 0) {
      const n = Math.min(diff, burst);
      const victims = podsToDelete(pods, this.relatedPods(owner), n);
      this.expectations.expectDeletions(key, victims.map(objectKey));
      const results = await Promise.allSettled(victims.map((p) => this.deletePod(owner, p, cause)));
      const errors: Error[] = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        this.expectations.deletionObserved(key, objectKey(victims[i]));
        if (!ApiError.isNotFound(r.reason)) errors.push(r.reason as Error);
      });
      if (errors.length > 0) throw errors[0];
    }
  }

  /**
   * getIndirectlyRelatedPods: the pods of every set with the same controller as this one
   * (a Deployment's ReplicaSets), used to rank pods by how doubled up their node is. A set
   * without a controller has none.
   */
  private relatedPods(owner: ReplicaOwner): Pod[] {
    const ref = controllerOf(owner);
    if (!ref) return [];
    const namespace = owner.metadata.namespace ?? '';
    const siblings = new Set(
      this.o.owners.cache
        .byIndex('namespace', namespace)
        .filter((o) => controllerOf(o)?.uid === ref.uid)
        .map((o) => o.metadata.uid),
    );
    return this.o.pods.cache
      .byIndex('namespace', namespace)
      .filter((p) => siblings.has(controllerOf(p)?.uid ?? '\0'));
  }

  /** PodControl.CreatePods (pkg/controller/controller_utils.go): the template, named after the owner. */
  private async createPod(owner: ReplicaOwner, cause: number): Promise<void> {
    const template = owner.spec?.template ?? {};
    const meta = template.metadata ?? {};
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${owner.metadata.name}-`,
        labels: meta.labels,
        annotations: meta.annotations,
        finalizers: meta.finalizers,
        ownerReferences: [controllerRef(this.o.kind, owner)],
      },
      spec: template.spec,
    };
    try {
      const pod = await this.o.api.create<Pod>(
        resourcePath({ ...POD, namespace: owner.metadata.namespace }),
        body,
        { cause },
      );
      this.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, cause);
    } catch (e) {
      this.record(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`, cause);
      throw e;
    }
  }

  private async deletePod(owner: ReplicaOwner, pod: Pod, cause: number): Promise<void> {
    try {
      await this.o.api.delete(
        resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name }),
        undefined,
        { cause },
      );
      this.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, cause);
    } catch (e) {
      if (!ApiError.isNotFound(e))
        this.record(owner, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`, cause);
      throw e;
    }
  }

  private record(
    owner: ReplicaOwner,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    cause: number,
  ) {
    // Listed objects carry no kind; the Event's involvedObject must name it (kubectl describe matches on it).
    const object = { ...owner, apiVersion: this.o.kind.apiVersion, kind: this.o.kind.kind };
    this.o.events.record({ object, type, reason, message, cause });
  }

  /**
   * updateReplicaSetStatus (replica_set_utils.go): observedGeneration is the generation acted
   * on; no write when nothing changed; on a conflict (our cached copy is behind, often only by
   * our own last status write) it re-reads the object and tries once more, as upstream does.
   */
  private async writeStatus(
    owner: ReplicaOwner,
    status: ReturnType<typeof calculateStatus>,
    cause: number,
  ): Promise<ReplicaOwner> {
    if (statusUnchanged(owner, status)) return owner;
    const next = { ...status, observedGeneration: owner.metadata.generation };
    const path = resourcePath({
      ...this.o.kind.resource,
      namespace: owner.metadata.namespace,
      name: owner.metadata.name,
    });
    try {
      return await this.o.api.update<ReplicaOwner>(`${path}/status`, { ...owner, status: next }, { cause });
    } catch (e) {
      if (!ApiError.isConflict(e)) throw e;
      const fresh = await this.o.api.get<ReplicaOwner>(path);
      return this.o.api.update<ReplicaOwner>(`${path}/status`, { ...fresh, status: next }, { cause });
    }
  }
}
