import { canonicalJson } from '@app/event-store';
import { matchesLabels } from '@app/api';
import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  retryOnConflict,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import {
  controllerRevisionName,
  type ControllerRevision,
  hashControllerRevision,
  sortControllerRevisions,
  CONTROLLER_REVISIONS,
} from '../history/controller-revision.js';
import { claimObjects } from '../replicaset/controller-ref-manager.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { controllerOf, isPodReady } from '../replicaset/pod-types.js';
import { safeSelector } from '../replicaset/replica-kind.js';
import { isMemberOf, type StatefulPod } from './identity.js';
import { chooseUpdateRevision, findCurrentRevision, revisionsToTruncate } from './revisions.js';
import { StatefulPodControl } from './stateful-pod-control.js';
import { completeRollingUpdate, inconsistentStatus } from './status.js';
import {
  PODS,
  type PersistentVolumeClaim,
  STATEFUL_SET,
  type StatefulSet,
  type StatefulSetStatus,
} from './statefulset-types.js';
import { planUpdate, type StatefulAction, type UpdatePlan } from './update-plan.js';

export interface StatefulSetControllerOptions {
  api: ApiClient;
  sets: Informer<StatefulSet>;
  /** The shared pod, ControllerRevision and PVC informers, indexed by namespace. */
  pods: Informer<StatefulPod>;
  revisions: Informer<ControllerRevision>;
  claims: Informer<PersistentVolumeClaim>;
  events: EventRecorder;
  /** --concurrent-statefulset-syncs (upstream default 5). */
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  expectations?: ControllerExpectations;
  onTrouble?: (e: Error, key?: string) => void;
  now?: () => number;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The StatefulSet controller (pkg/controller/statefulset/stateful_set.go): set and pod changes
 * enqueue the set's key; a worker syncs it — adopt orphan ControllerRevisions, claim the pods
 * named after the set, find or create the current and update revisions, plan (planUpdate) and
 * carry out the writes, write status, truncate history — requeueing with backoff on error.
 * Upstream keeps no expectations here and lets a stale cache's duplicate create fail with
 * AlreadyExists; ours waits until the pod cache has shown the creates and deletes of the last
 * sync instead.
 */
export class StatefulSetController extends QueueController {
  readonly name = 'statefulset';
  readonly expectations: ControllerExpectations;
  private readonly control: StatefulPodControl;

  constructor(private readonly o: StatefulSetControllerOptions) {
    super({
      queueName: 'statefulset',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.expectations = o.expectations ?? new ControllerExpectations();
    this.control = new StatefulPodControl({
      api: o.api,
      events: o.events,
      claim: (namespace, name) => o.claims.cache.get(`${namespace}/${name}`),
    });
    o.sets.onChange((c) => {
      if (c.type === 'deleted') this.expectations.delete(objectKey(c.object));
      this.queue.add(objectKey(c.object));
    });
    o.pods.onChange((c) => this.podChanged(c));
  }

  protected enqueueAll(): void {
    for (const set of this.o.sets.cache.list()) this.queue.add(objectKey(set));
  }

  // --- addPod / updatePod / deletePod ---

  private podChanged(c: CacheChange<StatefulPod>): void {
    const pod = c.object;
    const ref = controllerOf(pod);
    const set = this.resolve(pod, ref);
    // A pod marked for deletion is as good as deleted for expectations.
    const gone =
      c.type === 'deleted' ||
      (!!pod.metadata.deletionTimestamp && (c.type === 'added' || !c.old.metadata.deletionTimestamp));
    if (set) {
      const key = objectKey(set);
      if (gone) this.expectations.deletionObserved(key, objectKey(pod));
      else if (c.type === 'added') this.expectations.creationObserved(key);
      this.queue.add(key);
      const minReady = set.spec?.minReadySeconds ?? 0;
      // It becomes available minReadySeconds after it turned ready: look again then.
      if (c.type === 'updated' && !isPodReady(c.old) && isPodReady(pod) && minReady > 0)
        this.queue.addAfter(key, minReady * 1000 + 1000);
    }
    if (c.type === 'updated') {
      const oldRef = controllerOf(c.old);
      if (oldRef && oldRef.uid !== ref?.uid) {
        const prev = this.resolve(c.old, oldRef);
        if (prev) this.queue.add(objectKey(prev));
      }
    }
    // An orphan, new or with new labels: every set that could adopt it (getStatefulSetsForPod).
    const relabelled =
      c.type === 'added' ||
      (c.type === 'updated' &&
        (controllerOf(c.old) !== undefined ||
          JSON.stringify(c.old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})));
    if (!ref && relabelled)
      for (const s of this.o.sets.cache.byIndex('namespace', pod.metadata.namespace ?? ''))
        if (matchesLabels(safeSelector(s.spec?.selector), pod.metadata.labels)) this.queue.add(objectKey(s));
  }

  /** resolveControllerRef. */
  private resolve(pod: StatefulPod, ref: ReturnType<typeof controllerOf>): StatefulSet | undefined {
    if (ref?.kind !== STATEFUL_SET.kind) return undefined;
    const set = this.o.sets.cache.get(`${pod.metadata.namespace}/${ref.name}`);
    return set?.metadata.uid === ref.uid ? set : undefined;
  }

  // --- sync ---

  async sync(key: string): Promise<void> {
    const set = this.o.sets.cache.get(key);
    if (!set) {
      this.expectations.delete(key);
      return;
    }
    // The pod cache's news of the last sync's creates and deletes enqueues this key again.
    if (!this.expectations.satisfied(key)) return;
    const cause = Number(set.metadata.resourceVersion);
    const namespace = set.metadata.namespace ?? '';
    const selector = safeSelector(set.spec?.selector);
    // ListRevisions: ours and the orphans the selector matches; adoptOrphanRevisions adopts those.
    const revisions = await claimObjects(
      this.o.api,
      STATEFUL_SET,
      set,
      selector,
      this.o.revisions.cache
        .byIndex('namespace', namespace)
        .filter((r) => matchesLabels(selector, r.metadata.labels)),
      CONTROLLER_REVISIONS,
      cause,
    );
    // getPodsForStatefulSet: every pod of the namespace, claimed only when named after the set.
    const pods = await claimObjects(
      this.o.api,
      STATEFUL_SET,
      set,
      selector,
      this.o.pods.cache.byIndex('namespace', namespace),
      PODS,
      cause,
      (p) => isMemberOf(set, p),
    );
    const sorted = sortControllerRevisions(revisions);
    const { current, update, collisionCount } = await this.statefulSetRevisions(set, sorted, cause);
    const plan = planUpdate({
      set,
      pods,
      currentRevision: current,
      updateRevision: update,
      collisionCount,
      claim: (name) => this.o.claims.cache.get(`${namespace}/${name}`),
      now: (this.o.now ?? Date.now)(),
    });
    let error: Error | undefined;
    let rollingDeletes = 0;
    try {
      rollingDeletes = await this.execute(key, set, plan, cause);
    } catch (e) {
      error = e as Error;
    }
    const status = completeRollingUpdate(set, {
      ...plan.status,
      currentReplicas: (plan.status.currentReplicas ?? 0) - rollingDeletes,
    });
    const written = inconsistentStatus(set, status) ? await this.writeStatus(set, status, cause) : set;
    if (error) throw error;
    await this.truncateHistory(set, pods, sorted, current, update, cause);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && written.status?.availableReplicas !== (set.spec?.replicas ?? 1))
      this.queue.addAfter(key, minReady * 1000);
  }

  /**
   * Carries out the plan's writes. Monotonic: one by one, the first error ends the sync;
   * Parallel: each phase at once, an error ends the sync after its phase. Returns how many
   * pods were deleted for the rolling update (status.currentReplicas counts them out).
   */
  private async execute(key: string, set: StatefulSet, plan: UpdatePlan, cause: number): Promise<number> {
    const all = plan.phases.flat();
    const creates = all.filter((a) => a.type === 'create');
    const deletes = all.filter((a) => a.type === 'delete').map((a) => objectKey(a.pod));
    if (creates.length > 0 || deletes.length > 0) this.expectations.expect(key, creates.length, deletes);
    let rollingDeletes = 0;
    const run = async (a: StatefulAction): Promise<void> => {
      try {
        await this.perform(set, plan, a, cause);
        if (a.type === 'delete' && a.why === 'update') rollingDeletes++;
      } catch (e) {
        // A delete of a pod already gone is done (DeleteStatefulPod's callers sink NotFound).
        if (a.type === 'delete' && ApiError.isNotFound(e)) return;
        throw e;
      }
    };
    const settle = (a: StatefulAction) => {
      // What was not created or deleted will never be observed.
      if (a.type === 'create') this.expectations.creationObserved(key);
      if (a.type === 'delete') this.expectations.deletionObserved(key, objectKey(a.pod));
    };
    if (plan.monotonic) {
      for (let i = 0; i < all.length; i++) {
        try {
          await run(all[i]);
        } catch (e) {
          all.slice(i).forEach(settle);
          throw e;
        }
      }
      return rollingDeletes;
    }
    for (let p = 0; p < plan.phases.length; p++) {
      const phase = plan.phases[p];
      const results = await Promise.allSettled(phase.map(run));
      const failed = results.findIndex((r) => r.status === 'rejected');
      if (failed < 0) continue;
      phase.forEach((a, i) => results[i].status === 'rejected' && settle(a));
      plan.phases
        .slice(p + 1)
        .flat()
        .forEach(settle);
      throw (results[failed] as PromiseRejectedResult).reason;
    }
    return rollingDeletes;
  }

  private perform(set: StatefulSet, plan: UpdatePlan, a: StatefulAction, cause: number): Promise<unknown> {
    switch (a.type) {
      case 'create':
        return this.control.createStatefulPod(set, a.pod, cause);
      case 'create-claims':
        return this.control.createPersistentVolumeClaims(set, a.pod, cause);
      case 'update':
        return this.control.updateStatefulPod(plan.updateSet, a.pod, cause);
      case 'fix-claims':
        return this.control.updateClaimsForRetentionPolicy(plan.updateSet, a.pod, cause);
      case 'delete':
        return this.control.deleteStatefulPod(set, a.pod, cause);
    }
  }

  /**
   * getStatefulSetRevisions: the update revision is the newest revision equal to the set's
   * template (the latest; an older one raised to the next revision number for a rollback; or a
   * new one, whose name moves on with collisionCount while another revision holds it); the
   * current revision is the one status.currentRevision names, else the update revision.
   */
  private async statefulSetRevisions(
    set: StatefulSet,
    revisions: ControllerRevision[],
    cause: number,
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const choice = chooseUpdateRevision(set, revisions);
    let update: ControllerRevision;
    if (choice.kind === 'latest') update = choice.revision;
    else if (choice.kind === 'raise') update = await this.raiseRevision(choice.revision, choice.to, cause);
    else {
      const created = await this.createRevision(set, choice.revision, collisionCount, cause);
      update = created.revision;
      collisionCount = created.collisionCount;
    }
    return { current: findCurrentRevision(set, revisions, update), update, collisionCount };
  }

  /** realHistory.CreateControllerRevision: on a name taken by other data, count a collision and rehash. */
  private async createRevision(
    set: StatefulSet,
    revision: ControllerRevision,
    collisionCount: number,
    cause: number,
  ): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    const path = resourcePath({ ...CONTROLLER_REVISIONS, namespace: set.metadata.namespace });
    for (;;) {
      const name = controllerRevisionName(
        set.metadata.name ?? '',
        hashControllerRevision(revision.data, collisionCount),
      );
      const clone = { ...revision, metadata: { ...revision.metadata, name } };
      try {
        return {
          revision: await this.o.api.create<ControllerRevision>(path, clone, { cause }),
          collisionCount,
        };
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
        const exists = await this.o.api.get<ControllerRevision>(`${path}/${name}`);
        if (canonicalJson(exists.data ?? null) === canonicalJson(clone.data ?? null))
          return { revision: exists, collisionCount };
        collisionCount++;
      }
    }
  }

  /** realHistory.UpdateControllerRevision: the revision number raised, retried on conflict. */
  private async raiseRevision(
    revision: ControllerRevision,
    to: number,
    cause: number,
  ): Promise<ControllerRevision> {
    const path = resourcePath({
      ...CONTROLLER_REVISIONS,
      namespace: revision.metadata.namespace,
      name: revision.metadata.name,
    });
    return retryOnConflict(
      revision,
      () => this.o.api.get<ControllerRevision>(path),
      async (current) =>
        current.revision === to
          ? current
          : this.o.api.update<ControllerRevision>(path, { ...current, revision: to }, { cause }),
      5,
    );
  }

  private async truncateHistory(
    set: StatefulSet,
    pods: StatefulPod[],
    revisions: ControllerRevision[],
    current: ControllerRevision,
    update: ControllerRevision,
    cause: number,
  ): Promise<void> {
    for (const r of revisionsToTruncate(set, pods, revisions, current, update))
      try {
        await this.o.api.delete(
          resourcePath({ ...CONTROLLER_REVISIONS, namespace: r.metadata.namespace, name: r.metadata.name }),
          undefined,
          { cause },
        );
      } catch (e) {
        if (!ApiError.isNotFound(e)) throw e;
      }
  }

  /** UpdateStatefulSetStatus: the status subresource, once more on a re-read copy after a conflict. */
  private async writeStatus(
    set: StatefulSet,
    status: StatefulSetStatus,
    cause: number,
  ): Promise<StatefulSet> {
    const path = resourcePath({
      ...STATEFUL_SET.resource,
      namespace: set.metadata.namespace,
      name: set.metadata.name,
    });
    try {
      return await this.o.api.update<StatefulSet>(`${path}/status`, { ...set, status }, { cause });
    } catch (e) {
      if (!ApiError.isConflict(e)) throw e;
      const fresh = await this.o.api.get<StatefulSet>(path);
      return this.o.api.update<StatefulSet>(`${path}/status`, { ...fresh, status }, { cause });
    }
  }
}
