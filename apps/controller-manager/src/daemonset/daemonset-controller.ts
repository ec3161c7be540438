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
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import { CONTROLLER_REVISIONS, type ControllerRevision } from '../history/controller-revision.js';
import { claimObjects, claimPods } from '../replicaset/controller-ref-manager.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { controllerOf, isPodReady, type Pod } from '../replicaset/pod-types.js';
import { controllerRef } from '../replicaset/replica-kind.js';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../replicaset/slow-start.js';
import { createPodTemplate, type DaemonPod, replaceNodeNameAffinity, targetNodeName } from './daemon-pods.js';
import { calculateCounts, type DaemonSetCounts, statusUpToDate } from './daemonset-status.js';
import {
  DAEMON_SET,
  DAEMONSET_HASH_LABEL,
  type DaemonSet,
  daemonSetSelector,
  isRollingUpdate,
  type Node,
  selectsEverything,
  templateGeneration,
} from './daemonset-types.js';
import { FailedPodsBackoff } from './failed-pods-backoff.js';
import { type Eligibility, nodeShouldRunDaemonPod } from './node-eligibility.js';
import { podsShouldBeOnNode } from './placement.js';
import { keptRevision, matchesRevision, revisionsToDelete, snapshotRevision } from './revisions.js';
import { rollingUpdatePlan, updateLimits } from './rolling-update.js';

/** Upstream's BurstReplicas for DaemonSets: at most this many creates or deletes per sync. */
export const DAEMONSET_BURST_REPLICAS = 250;

const POD = { group: '', version: 'v1', plural: 'pods' };

export interface DaemonSetControllerOptions {
  api: ApiClient;
  daemonSets: Informer<DaemonSet>;
  /** The shared pod, node and ControllerRevision informers (pods and revisions indexed by namespace). */
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  revisions: Informer<ControllerRevision>;
  events: EventRecorder;
  /** --concurrent-daemonset-syncs (upstream default 2). */
  workers?: number;
  burstReplicas?: number;
  rateLimiter?: RateLimiter<string>;
  failedPodsBackoff?: FailedPodsBackoff;
  onTrouble?: (e: Error, key?: string) => void;
  now?: () => number;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/** One sync's view: the DaemonSet, the nodes with their eligibility, its pods by target node. */
interface SyncView {
  ds: DaemonSet;
  key: string;
  cause: number;
  nodes: { node: Node; name: string; eligibility: Eligibility }[];
  /** Every claimed pod, deleted terminal ones included (history cleanup keeps their revisions). */
  pods: DaemonPod[];
  /** getNodesToDaemonPods without the deleted terminal pods. */
  nodeToPods: Map<string, DaemonPod[]>;
}

/**
 * The DaemonSet controller (pkg/controller/daemon/daemon_controller.go, update.go): one pod
 * on each node the DaemonSet's pod fits (nodeSelector, required node affinity, taints), each
 * created pinned to its node by a `metadata.name` node affinity for the scheduler to bind;
 * revisions as ControllerRevisions; RollingUpdate (maxUnavailable, maxSurge) or OnDelete.
 * Every write carries as its cause the resourceVersion of the DaemonSet version reconciled.
 */
export class DaemonSetController extends QueueController {
  readonly name = 'daemonset';
  readonly expectations = new ControllerExpectations();
  private readonly backoff: FailedPodsBackoff;
  private readonly now: () => number;
  private gcTimer?: NodeJS.Timeout;

  constructor(private readonly o: DaemonSetControllerOptions) {
    super({
      queueName: 'daemonset',
      workers: o.workers ?? 2,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.backoff = o.failedPodsBackoff ?? new FailedPodsBackoff();
    this.now = o.now ?? Date.now;
    o.daemonSets.onChange((c) => {
      if (c.type === 'deleted') this.expectations.delete(objectKey(c.object));
      this.queue.add(objectKey(c.object));
    });
    o.pods.onChange((c) => this.podChanged(c));
    o.nodes.onChange((c) => this.nodeChanged(c));
    o.revisions.onChange((c) => this.revisionChanged(c));
  }

  protected enqueueAll(): void {
    for (const ds of this.o.daemonSets.cache.list()) this.queue.add(objectKey(ds));
  }

  override start(): void {
    super.start();
    // upstream runs failedPodsBackoff.GC every BackoffGCInterval (1 min).
    this.gcTimer ??= setInterval(() => this.backoff.gc(this.now()), 60_000);
    this.gcTimer.unref();
  }

  override async stop(): Promise<void> {
    clearInterval(this.gcTimer);
    this.gcTimer = undefined;
    await super.stop();
  }

  // --- event handlers (addPod/updatePod/deletePod, addNode/updateNode/deleteNode, history) ---

  private podChanged(c: CacheChange<Pod>): void {
    const pod = c.object;
    const ds = this.resolve(pod);
    if (c.type === 'deleted' || (c.type === 'added' && pod.metadata.deletionTimestamp)) {
      if (!ds) return;
      this.expectations.deletionObserved(objectKey(ds), objectKey(pod));
      this.queue.add(objectKey(ds));
      return;
    }
    if (c.type === 'added') {
      if (ds) {
        this.expectations.creationObserved(objectKey(ds));
        this.queue.add(objectKey(ds));
      } else if (!controllerOf(pod)) for (const d of this.matching(pod)) this.queue.add(objectKey(d));
      return;
    }
    const old = c.old;
    if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp && ds)
      this.expectations.deletionObserved(objectKey(ds), objectKey(pod));
    const oldDs = this.resolve(old);
    if (oldDs && controllerOf(old)?.uid !== controllerOf(pod)?.uid) this.queue.add(objectKey(oldDs));
    if (ds) {
      this.queue.add(objectKey(ds));
      const minReady = ds.spec?.minReadySeconds ?? 0;
      // It turns available minReadySeconds after it turned ready: look again then.
      if (!isPodReady(old) && isPodReady(pod) && minReady > 0)
        this.queue.addAfter(objectKey(ds), minReady * 1000 + 1000);
      return;
    }
    const labelsChanged =
      JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    if (!controllerOf(pod) && (labelsChanged || controllerOf(old)))
      for (const d of this.matching(pod)) this.queue.add(objectKey(d));
  }

  /**
   * addNode enqueues the DaemonSets that should run on it, updateNode those whose eligibility
   * changed (shouldIgnoreNodeUpdate: heartbeats change nothing), deleteNode all of them.
   */
  private nodeChanged(c: CacheChange<Node>): void {
    for (const ds of this.o.daemonSets.cache.list()) {
      if (c.type === 'deleted') this.queue.add(objectKey(ds));
      else if (c.type === 'added') {
        if (nodeShouldRunDaemonPod(c.object, ds).shouldRun) this.queue.add(objectKey(ds));
      } else {
        const [a, b] = [nodeShouldRunDaemonPod(c.old, ds), nodeShouldRunDaemonPod(c.object, ds)];
        if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning)
          this.queue.add(objectKey(ds));
      }
    }
  }

  /** addHistory/updateHistory/deleteHistory: the controlling DaemonSet looks again. */
  private revisionChanged(c: CacheChange<ControllerRevision>): void {
    const ds = this.resolve(c.object);
    if (ds) this.queue.add(objectKey(ds));
  }

  /** resolveControllerRef: the DaemonSet in our cache with that name and uid. */
  private resolve(o: Pod | ControllerRevision): DaemonSet | undefined {
    const ref = controllerOf(o);
    if (!ref || ref.kind !== DAEMON_SET.kind) return undefined;
    const ds = this.o.daemonSets.cache.get(`${o.metadata.namespace}/${ref.name}`);
    return ds?.metadata.uid === ref.uid ? ds : undefined;
  }

  /** getDaemonSetsForPod: the DaemonSets in the pod's namespace whose selector matches it. */
  private matching(pod: Pod): DaemonSet[] {
    return this.o.daemonSets.cache
      .byIndex('namespace', pod.metadata.namespace ?? '')
      .filter((ds) => matchesLabels(daemonSetSelector(ds), pod.metadata.labels));
  }

  // --- syncDaemonSet ---

  async sync(key: string): Promise<void> {
    const ds = this.o.daemonSets.cache.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const cause = Number(ds.metadata.resourceVersion);
    if (selectsEverything(ds)) {
      this.record(
        ds,
        'Warning',
        'SelectingAll',
        'This daemon set is selecting all pods. A non-empty selector is required.',
        cause,
      );
      return;
    }
    // Being deleted, its revisions may be gone already: no status can be trusted (upstream returns too).
    if (ds.metadata.deletionTimestamp) return;
    const { current, old } = await this.constructHistory(ds, cause);
    const hash = current.metadata.labels?.[DAEMONSET_HASH_LABEL] ?? '';
    const view = await this.view(ds, key, cause);
    if (!this.expectations.satisfied(key)) return this.updateStatus(view, hash, false);
    let error: Error | undefined;
    try {
      await this.updateDaemonSet(view, hash, old);
    } catch (e) {
      error = e as Error;
    }
    try {
      await this.updateStatus(view, hash, true);
    } catch (e) {
      error ??= e as Error;
    }
    if (error) throw error;
  }

  private async view(ds: DaemonSet, key: string, cause: number): Promise<SyncView> {
    const namespace = ds.metadata.namespace ?? '';
    const candidates = this.o.pods.cache.byIndex('namespace', namespace);
    const pods: DaemonPod[] = await claimPods(
      this.o.api,
      DAEMON_SET,
      ds,
      daemonSetSelector(ds),
      candidates,
      cause,
    );
    const nodeToPods = new Map<string, DaemonPod[]>();
    for (const pod of pods) {
      const terminal = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
      if (terminal && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      nodeToPods.set(node, [...(nodeToPods.get(node) ?? []), pod]);
    }
    const nodes = this.o.nodes.cache.list().map((node) => ({
      node,
      name: node.metadata.name ?? '',
      eligibility: nodeShouldRunDaemonPod(node, ds),
    }));
    return { ds, key, cause, nodes, pods, nodeToPods };
  }

  /** updateDaemonSet: manage, then (expectations satisfied) the rolling update, then history cleanup. */
  private async updateDaemonSet(v: SyncView, hash: string, old: ControllerRevision[]): Promise<void> {
    await this.manage(v, hash);
    if (this.expectations.satisfied(v.key) && isRollingUpdate(v.ds)) await this.rollingUpdate(v, hash);
    const limit = v.ds.spec?.revisionHistoryLimit ?? 10;
    for (const r of revisionsToDelete(old, limit, v.pods))
      await this.o.api.delete(this.revisionPath(r), undefined, { cause: v.cause }).catch((e: unknown) => {
        if (!ApiError.isNotFound(e))
          throw new Error(`failed to clean up revisions of DaemonSet: ${(e as Error).message}`, { cause: e });
      });
  }

  /** manage: per node, podsShouldBeOnNode; and unscheduled pods aimed at nodes that are gone. */
  private async manage(v: SyncView, hash: string): Promise<void> {
    const { ds } = v;
    // util.AllowsSurge: maxSurge scaled against a single node is not zero.
    const allowsSurge = updateLimits(ds, 1).maxSurge > 0;
    const create: string[] = [];
    const remove: Pod[] = [];
    const now = this.now();
    for (const n of v.nodes) {
      const plan = podsShouldBeOnNode(v.nodeToPods.get(n.name) ?? [], {
        eligibility: n.eligibility,
        allowsSurge,
        hash,
        minReadySeconds: ds.spec?.minReadySeconds ?? 0,
        now,
        failedPodBackoff: () => this.backoff.next(`${ds.metadata.uid}/${n.name}`, now),
      });
      if (plan.create) create.push(n.name);
      remove.push(...plan.delete);
      if (plan.retryAfterMs !== undefined) this.queue.addAfter(v.key, plan.retryAfterMs);
      for (const pod of plan.failed)
        this.record(
          ds,
          'Warning',
          'FailedDaemonPod',
          `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${n.name}, will try to kill it`,
          v.cause,
        );
    }
    // getUnscheduledPodsWithoutNode: PodGC removes bound pods of deleted nodes, not these.
    const existing = new Set(v.nodes.map((n) => n.name));
    for (const [node, pods] of v.nodeToPods)
      if (!existing.has(node)) remove.push(...pods.filter((p) => !p.spec?.nodeName));
    await this.syncNodes(v, remove, create, hash);
  }

  private async rollingUpdate(v: SyncView, hash: string): Promise<void> {
    const eligibility = new Map(v.nodes.map((n) => [n.name, n.eligibility]));
    const nodeToPods = new Map<string, readonly Pod[]>(v.nodeToPods);
    for (const [name, e] of eligibility) if (e.shouldRun && !nodeToPods.has(name)) nodeToPods.set(name, []);
    const plan = rollingUpdatePlan({
      ds: v.ds,
      nodeToPods,
      eligibility: (name) => eligibility.get(name),
      desired: v.nodes.filter((n) => n.eligibility.shouldRun).length,
      hash,
      generation: templateGeneration(v.ds),
      now: this.now(),
    });
    await this.syncNodes(v, plan.deletePods, plan.createOnNodes, hash);
  }

  /**
   * syncNodes: expectations for what is asked, pods created in slow-start batches (each pinned
   * to its node), deletions in parallel; what failed is taken off the expectations.
   */
  private async syncNodes(
    v: SyncView,
    remove: readonly Pod[],
    create: readonly string[],
    hash: string,
  ): Promise<void> {
    const burst = this.o.burstReplicas ?? DAEMONSET_BURST_REPLICAS;
    const nodes = create.slice(0, burst);
    const victims = remove.slice(0, burst);
    if (nodes.length === 0 && victims.length === 0) return;
    this.expectations.expect(v.key, nodes.length, victims.map(objectKey));
    const template = createPodTemplate(v.ds.spec?.template, templateGeneration(v.ds), hash);
    let next = 0;
    const created = slowStartBatch(nodes.length, SLOW_START_INITIAL_BATCH, () =>
      this.createPod(v, template, nodes[next++]),
    );
    const deleted = Promise.allSettled(victims.map((p) => this.deletePod(v, p)));
    const { successes, error } = await created;
    for (let i = successes; i < nodes.length; i++) this.expectations.creationObserved(v.key);
    const errors: Error[] = error ? [error] : [];
    (await deleted).forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      this.expectations.deletionObserved(v.key, objectKey(victims[i]));
      if (!ApiError.isNotFound(r.reason)) errors.push(r.reason as Error);
    });
    if (errors.length > 0) throw errors[0];
  }

  /** PodControl.CreatePods with the template pinned to `nodeName` by node affinity. */
  private async createPod(
    v: SyncView,
    template: ReturnType<typeof createPodTemplate>,
    nodeName: string,
  ): Promise<void> {
    const meta = template.metadata;
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${v.ds.metadata.name}-`,
        labels: meta.labels,
        annotations: meta.annotations,
        finalizers: meta.finalizers,
        ownerReferences: [controllerRef(DAEMON_SET, v.ds)],
      },
      spec: { ...template.spec, affinity: replaceNodeNameAffinity(template.spec.affinity, nodeName) },
    };
    try {
      const pod = await this.o.api.create<Pod>(
        resourcePath({ ...POD, namespace: v.ds.metadata.namespace }),
        body,
        {
          cause: v.cause,
        },
      );
      this.record(v.ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, v.cause);
    } catch (e) {
      this.record(v.ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`, v.cause);
      throw e;
    }
  }

  private async deletePod(v: SyncView, pod: Pod): Promise<void> {
    try {
      await this.o.api.delete(
        resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name }),
        undefined,
        { cause: v.cause },
      );
      this.record(v.ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, v.cause);
    } catch (e) {
      if (!ApiError.isNotFound(e))
        this.record(v.ds, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`, v.cause);
      throw e;
    }
  }

  // --- history (constructHistory, snapshot, dedupCurHistories) ---

  private async constructHistory(
    ds: DaemonSet,
    cause: number,
  ): Promise<{ current: ControllerRevision; old: ControllerRevision[] }> {
    const namespace = ds.metadata.namespace ?? '';
    const candidates = this.o.revisions.cache.byIndex('namespace', namespace);
    const controlled = await claimObjects(
      this.o.api,
      DAEMON_SET,
      ds,
      daemonSetSelector(ds),
      candidates,
      CONTROLLER_REVISIONS,
      cause,
    );
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let r of controlled) {
      // A revision without the hash label gets its name as hash: no collision to worry about.
      if (r.metadata.labels?.[DAEMONSET_HASH_LABEL] === undefined)
        r = await this.o.api.update<ControllerRevision>(
          this.revisionPath(r),
          {
            ...r,
            metadata: {
              ...r.metadata,
              labels: { ...r.metadata.labels, [DAEMONSET_HASH_LABEL]: r.metadata.name },
            },
          },
          { cause },
        );
      (matchesRevision(ds, r) ? current : old).push(r);
    }
    const revision = old.reduce((max, r) => Math.max(max, r.revision), 0) + 1;
    if (current.length === 0) return { current: await this.snapshot(ds, revision, cause), old };
    const keep = await this.dedup(ds, current, cause);
    if (keep.revision >= revision) return { current: keep, old };
    return {
      current: await this.o.api.update<ControllerRevision>(
        this.revisionPath(keep),
        { ...keep, revision },
        { cause },
      ),
      old,
    };
  }

  private async snapshot(ds: DaemonSet, revision: number, cause: number): Promise<ControllerRevision> {
    const history = snapshotRevision(ds, controllerRef(DAEMON_SET, ds), revision);
    try {
      return await this.o.api.create<ControllerRevision>(
        resourcePath({ ...CONTROLLER_REVISIONS, namespace: ds.metadata.namespace }),
        history,
        { cause },
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
      const existing = await this.o.api.get<ControllerRevision>(this.revisionPath(history));
      if (matchesRevision(ds, existing)) return existing;
      // A different revision holds the name: bump collisionCount (on the latest copy) and retry.
      const path = resourcePath({
        ...DAEMON_SET.resource,
        namespace: ds.metadata.namespace,
        name: ds.metadata.name,
      });
      const fresh = await this.o.api.get<DaemonSet>(path);
      if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined))
        throw new Error(
          `found a stale collision count (${ds.status?.collisionCount}, expected ${fresh.status?.collisionCount}) of DaemonSet "${ds.metadata.name}" while processing; will retry until it is updated`,
          { cause: e },
        );
      const collisionCount = (fresh.status?.collisionCount ?? 0) + 1;
      await this.o.api.update(
        `${path}/status`,
        { ...fresh, status: { ...fresh.status, collisionCount } },
        { cause },
      );
      throw e;
    }
  }

  /** dedupCurHistories: the highest revision stays; pods are relabelled to it and the others deleted. */
  private async dedup(
    ds: DaemonSet,
    current: ControllerRevision[],
    cause: number,
  ): Promise<ControllerRevision> {
    if (current.length === 1) return current[0];
    const keep = keptRevision(current);
    const keepHash = keep.metadata.labels?.[DAEMONSET_HASH_LABEL] ?? '';
    for (const r of current) {
      if (r.metadata.name === keep.metadata.name) continue;
      const pods = this.o.pods.cache
        .byIndex('namespace', ds.metadata.namespace ?? '')
        .filter(
          (p) =>
            controllerOf(p)?.uid === ds.metadata.uid &&
            p.metadata.labels?.[DAEMONSET_HASH_LABEL] !== keepHash,
        );
      for (const pod of pods)
        await this.o.api.patch(
          resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name }),
          { metadata: { labels: { [DAEMONSET_HASH_LABEL]: keepHash } } },
          { cause, contentType: 'application/merge-patch+json' },
        );
      await this.o.api.delete(this.revisionPath(r), undefined, { cause }).catch((e: unknown) => {
        if (!ApiError.isNotFound(e)) throw e;
      });
    }
    return keep;
  }

  private revisionPath(r: ControllerRevision): string {
    return resourcePath({ ...CONTROLLER_REVISIONS, namespace: r.metadata.namespace, name: r.metadata.name });
  }

  // --- status (updateDaemonSetStatus, storeDaemonSetStatus) ---

  private async updateStatus(v: SyncView, hash: string, updateObservedGen: boolean): Promise<void> {
    const { ds } = v;
    const counts = calculateCounts(ds, v.nodes, v.nodeToPods, hash, templateGeneration(ds), this.now());
    await this.storeStatus(ds, counts, updateObservedGen, v.cause);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    // Resync after minReadySeconds, the last line of defence against clock skew.
    if (minReady > 0 && counts.numberReady !== counts.numberAvailable)
      this.queue.addAfter(v.key, minReady * 1000);
  }

  /** storeDaemonSetStatus: no write when nothing changed; one retry on a fresh copy after a conflict. */
  private async storeStatus(
    ds: DaemonSet,
    counts: DaemonSetCounts,
    updateObservedGen: boolean,
    cause: number,
  ): Promise<void> {
    if (statusUpToDate(ds, counts, updateObservedGen)) return;
    const path = resourcePath({
      ...DAEMON_SET.resource,
      namespace: ds.metadata.namespace,
      name: ds.metadata.name,
    });
    const withCounts = (o: DaemonSet): DaemonSet => ({
      ...o,
      status: {
        ...o.status,
        ...counts,
        ...(updateObservedGen ? { observedGeneration: ds.metadata.generation } : {}),
      },
    });
    try {
      await this.o.api.update(`${path}/status`, withCounts(ds), { cause });
    } catch (e) {
      if (!ApiError.isConflict(e)) throw e;
      const fresh = await this.o.api.get<DaemonSet>(path);
      await this.o.api.update(`${path}/status`, withCounts(fresh), { cause });
    }
  }

  private record(
    ds: DaemonSet,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    cause: number,
  ): void {
    // Listed objects carry no kind; the Event's involvedObject must name it (kubectl describe matches on it).
    const object = { ...ds, apiVersion: DAEMON_SET.apiVersion, kind: DAEMON_SET.kind };
    this.o.events.record({ object, type, reason, message, cause });
  }
}
