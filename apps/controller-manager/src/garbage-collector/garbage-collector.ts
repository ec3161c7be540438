import { type NatsConnection } from '@nats-io/transport-node';

import { apiVersionOf, type ResourceRegistry, type ResourceType } from '@app/api';
import { isRedactedKind } from '@app/bus';
import {
  type ApiClient,
  ApiError,
  type CacheChange,
  ExponentialBackoff,
  Informer,
  resourcePath,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type Controller } from '../controller.js';
import { ListPoller } from './list-poller.js';
import {
  FOREGROUND_FINALIZER,
  type GraphActions,
  type GraphNode,
  groupOf,
  type ObjectIdentity,
  ORPHAN_FINALIZER,
  OwnerGraph,
  type OwnerReference,
} from './owner-graph.js';

export interface GarbageCollectorOptions {
  /** Workers of each queue (kube-controller-manager's --concurrent-gc-syncs, default 20). */
  workers?: number;
  /** Per-item retry backoff of both queues, ms: base and cap (controllers: 5 ms → 1000 s). */
  backoffMs?: [number, number];
  /** How often kinds the bus carries redacted (Secrets) are listed, ms. Default 5 s. */
  redactedPollMs?: number;
  /** Told of failures that are retried (a write refused, a GET that failed). */
  onTrouble?: (error: Error) => void;
  /** The controller manager's shared informer of a kind, so the GC does not follow it twice. */
  informerFor?: (resource: { group: string; version: string; plural: string }) => Informer;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

type Propagation = 'Background' | 'Foreground' | 'Orphan';

/**
 * Upstream's garbage collector (pkg/controller/garbagecollector/garbagecollector.go): an
 * owner→dependents graph built from informers over every deletable kind, an attemptToDelete
 * queue (dependents whose owners may be gone, owners waiting in the foreground) and an
 * attemptToOrphan queue (owners deleted with the orphan finalizer). Queue items are uids.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  readonly graph = new OwnerGraph();
  private readonly sources: (Informer | ListPoller)[] = [];
  private readonly attemptToDelete: WorkQueue<string>;
  private readonly attemptToOrphan: WorkQueue<string>;
  /** The log seq of the change that put a uid in a queue: the audit cause of the write it leads to. */
  private readonly causes = new Map<string, number>();
  private workers: Promise<void>[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly nats: NatsConnection,
    private readonly registry: ResourceRegistry,
    private readonly o: GarbageCollectorOptions = {},
  ) {
    const [base, max] = o.backoffMs ?? [5, 1_000_000];
    // Upstream's queue names, so dashboards built for kube-controller-manager read these too.
    this.attemptToDelete = new WorkQueue<string>(new ExponentialBackoff<string>(base, max), {
      name: 'garbage_collector_attempt_to_delete',
      metrics: o.queueMetrics,
    });
    this.attemptToOrphan = new WorkQueue<string>(new ExponentialBackoff<string>(base, max), {
      name: 'garbage_collector_attempt_to_orphan',
      metrics: o.queueMetrics,
    });
  }

  /** The kinds the graph follows: every deletable kind, as upstream's GetDeletableResources, less the ignored ones. */
  static monitoredKinds(registry: ResourceRegistry): ResourceType[] {
    return registry.types.filter(
      (t) =>
        // Another group-version's view of the same store (events.k8s.io Event) is followed once.
        t.storage === undefined &&
        // garbagecollector config's DefaultIgnoredResources: events are never owners worth a graph.
        !(t.group === '' && t.plural === 'events'),
    );
  }

  async start(): Promise<void> {
    const followed: Informer[] = [];
    for (const t of GarbageCollector.monitoredKinds(this.registry)) {
      const resource = { group: t.group, version: t.version, plural: t.plural };
      const onTrouble = (e: Error) => this.o.onTrouble?.(e);
      if (isRedactedKind({ group: t.group, resource: t.plural })) {
        // The bus carries Secrets without their data and no Informer follows them: poll the
        // API. A poll's resourceVersion is not the change's seq, so these carry no cause.
        const poller = new ListPoller({
          api: this.api,
          resource,
          intervalMs: this.o.redactedPollMs ?? 5000,
          onTrouble,
        });
        poller.onChange((c) => this.onChange(t, c));
        this.sources.push(poller.start());
        continue;
      }
      // A shared informer (the controller manager's) is borrowed, not stopped here.
      const shared = this.o.informerFor?.(resource);
      const informer: Informer =
        shared ?? new Informer({ api: this.api, nats: this.nats, resource, onTrouble });
      informer.onChange((c) => this.onChange(t, c, informer.seen));
      informer.start();
      if (shared) followed.push(shared);
      else this.sources.push(informer);
    }
    // Upstream waits for the graph to be complete before it acts on it: an orphaning owner
    // must know all its dependents.
    await Promise.all([...this.sources, ...followed].map((i) => i.synced()));
    const n = this.o.workers ?? 20;
    for (let i = 0; i < n; i++) {
      this.workers.push(this.work(this.attemptToDelete, (uid) => this.attemptToDeleteItem(uid)));
      this.workers.push(this.work(this.attemptToOrphan, (uid) => this.attemptToOrphanItem(uid)));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.attemptToDelete.shutdownAndDrain(), this.attemptToOrphan.shutdownAndDrain()]);
    await Promise.all(this.workers);
    await Promise.all(this.sources.map((i) => i.stop()));
    this.workers = [];
    this.sources.length = 0;
  }

  private onChange(t: ResourceType, change: CacheChange<StoredObject>, seq?: number): void {
    const meta = change.object.metadata;
    if (!meta.uid) return;
    const actions =
      change.type === 'deleted'
        ? this.graph.remove(meta.uid)
        : this.graph.observe({
            identity: {
              apiVersion: apiVersionOf(t),
              kind: t.kind,
              namespace: meta.namespace ?? '',
              name: meta.name ?? '',
              uid: meta.uid,
            },
            owners: (meta.ownerReferences as OwnerReference[] | undefined) ?? [],
            deletionTimestamp: meta.deletionTimestamp,
            finalizers: (meta.finalizers as string[] | undefined) ?? [],
          });
    this.enqueue(actions, seq);
  }

  private enqueue(actions: GraphActions, cause?: number): void {
    for (const uid of actions.attemptToDelete) {
      if (cause !== undefined) this.causes.set(uid, cause);
      this.attemptToDelete.add(uid);
    }
    for (const uid of actions.attemptToOrphan) {
      if (cause !== undefined) this.causes.set(uid, cause);
      this.attemptToOrphan.add(uid);
    }
  }

  private async work(queue: WorkQueue<string>, process: (uid: string) => Promise<'done' | 'retry'>) {
    for (;;) {
      const uid = await queue.get();
      if (uid === undefined) return;
      try {
        if ((await process(uid)) === 'retry') queue.addRateLimited(uid);
        else {
          queue.forget(uid);
          if (!this.graph.node(uid)) this.causes.delete(uid);
        }
      } catch (e) {
        this.o.onTrouble?.(e as Error);
        queue.addRateLimited(uid);
      } finally {
        queue.done(uid);
      }
    }
  }

  /** garbagecollector.go attemptToDeleteItem. */
  private async attemptToDeleteItem(uid: string): Promise<'done' | 'retry'> {
    const node = this.graph.node(uid);
    if (!node) return 'done';
    const cause = this.causes.get(uid);
    if (node.virtual) {
      // A virtual node is confirmed by a live read; absent, its dependents look at their owners.
      const live = await this.getLive(node.identity);
      // It exists: look again until a source observes it (attemptToDeleteWorker requeues an
      // unobserved node); a polled kind may never show an owner that lives briefly.
      if (live?.metadata.uid === uid) return 'retry';
      this.enqueue(this.graph.remove(uid), cause);
      return 'done';
    }
    if (node.beingDeleted && !node.deletingDependents) return 'done';
    const latest = await this.getLive(node.identity);
    // Gone, or replaced by a namesake: the informer's delete comes and updates the graph.
    if (!latest || latest.metadata.uid !== uid) return 'done';
    if (node.deletingDependents) return this.processDeletingDependents(node, cause);

    const refs = (latest.metadata.ownerReferences as OwnerReference[] | undefined) ?? [];
    if (refs.length === 0) return 'done';
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.ownerOf(ref, node.identity);
      if (!owner) dangling.push(ref);
      else if (
        owner.metadata.deletionTimestamp &&
        ((owner.metadata.finalizers as string[] | undefined) ?? []).includes(FOREGROUND_FINALIZER)
      )
        waiting.push(ref);
      else solid.push(ref);
    }

    if (solid.length > 0) {
      // A live owner keeps the object; references to absent owners and to owners waiting for
      // their dependents are dropped, so they stop holding anything up.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      if (drop.size === 0) return 'done';
      return this.patchOwnerRefs(
        node.identity,
        latest,
        refs.filter((r) => !drop.has(r.uid)),
        cause,
      );
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      // An owner waits for this object, which has dependents of its own: delete it in the
      // foreground too. If one of those dependents is itself deleting in the foreground, this
      // object's blockOwnerDeletion would deadlock a cycle; unblock first (upstream does the same).
      if (this.graph.dependents(uid).some((d) => d.deletingDependents)) {
        const waitingUids = new Set(waiting.map((r) => r.uid));
        const unblocked = refs.map((r) => (waitingUids.has(r.uid) ? { ...r, blockOwnerDeletion: false } : r));
        const r = await this.patchOwnerRefs(node.identity, latest, unblocked, cause);
        if (r === 'retry') return r;
      }
      return this.deleteObject(node.identity, 'Foreground', cause);
    }
    const finalizers = (latest.metadata.finalizers as string[] | undefined) ?? [];
    const policy: Propagation = finalizers.includes(ORPHAN_FINALIZER)
      ? 'Orphan'
      : finalizers.includes(FOREGROUND_FINALIZER)
        ? 'Foreground'
        : 'Background';
    return this.deleteObject(node.identity, policy, cause);
  }

  /** garbagecollector.go processDeletingDependentsItem: the finalizer goes once no blocking dependent is left. */
  private async processDeletingDependents(node: GraphNode, cause?: number): Promise<'done' | 'retry'> {
    const blocking = this.graph.blockingDependents(node.identity.uid);
    if (blocking.length === 0) return this.removeFinalizer(node.identity, FOREGROUND_FINALIZER, cause);
    for (const d of blocking) {
      if (d.deletingDependents) continue;
      if (cause !== undefined) this.causes.set(d.identity.uid, cause);
      this.attemptToDelete.add(d.identity.uid);
    }
    // The owner is queued again when a blocking dependent goes (OwnerGraph.remove).
    return 'done';
  }

  /** garbagecollector.go attemptToOrphanWorker: strip the references, then the finalizer. */
  private async attemptToOrphanItem(uid: string): Promise<'done' | 'retry'> {
    const node = this.graph.node(uid);
    if (!node || node.virtual) return 'done';
    const cause = this.causes.get(uid);
    for (const dep of this.graph.dependents(uid)) {
      const latest = await this.getLive(dep.identity);
      if (!latest || latest.metadata.uid !== dep.identity.uid) continue;
      const refs = (latest.metadata.ownerReferences as OwnerReference[] | undefined) ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      const r = await this.patchOwnerRefs(
        dep.identity,
        latest,
        refs.filter((r) => r.uid !== uid),
        cause,
      );
      if (r === 'retry') return r;
    }
    return this.removeFinalizer(node.identity, ORPHAN_FINALIZER, cause);
  }

  /**
   * The owner a reference names, read live (upstream's isDangling): undefined when absent, when
   * a namesake with another uid is there, when its kind is unknown, or when it could only be in
   * another namespace (a namespaced owner of a cluster-scoped dependent).
   */
  private async ownerOf(ref: OwnerReference, dependent: ObjectIdentity): Promise<StoredObject | undefined> {
    const owner = await this.getLive({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: ref.name,
      namespace: dependent.namespace,
      uid: ref.uid,
    });
    return owner?.metadata.uid === ref.uid ? owner : undefined;
  }

  /** The object at `i`'s coordinates now (namespace ignored for a cluster-scoped kind), or undefined. */
  private async getLive(i: ObjectIdentity): Promise<StoredObject | undefined> {
    const path = this.pathOf(i);
    if (!path) return undefined;
    return this.api.getIfExists<StoredObject>(path);
  }

  private pathOf(i: ObjectIdentity): string | undefined {
    const t = this.resolve(i);
    if (!t) return undefined;
    if (t.namespaced && !i.namespace) return undefined;
    return resourcePath({
      group: t.group,
      version: t.version,
      plural: t.plural,
      namespace: t.namespaced ? i.namespace : undefined,
      name: i.name,
    });
  }

  /** The served kind of a reference: its exact version, else another version of the same group and kind. */
  private resolve(i: Pick<ObjectIdentity, 'apiVersion' | 'kind'>): ResourceType | undefined {
    const group = groupOf(i);
    const version = i.apiVersion.slice(i.apiVersion.indexOf('/') + 1);
    return (
      this.registry.byKind(group, version, i.kind) ??
      this.registry.types.find((t) => t.group === group && t.kind === i.kind && t.storage === undefined)
    );
  }

  private async deleteObject(
    i: ObjectIdentity,
    policy: Propagation,
    cause?: number,
  ): Promise<'done' | 'retry'> {
    const path = this.pathOf(i);
    if (!path) return 'done';
    return this.write(() =>
      this.api.delete(
        path,
        { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: policy, preconditions: { uid: i.uid } },
        { cause },
      ),
    );
  }

  private patchOwnerRefs(
    i: ObjectIdentity,
    latest: StoredObject,
    refs: OwnerReference[],
    cause?: number,
  ): Promise<'done' | 'retry'> {
    return this.patchMetadata(i, latest, { ownerReferences: refs.length > 0 ? refs : null }, cause);
  }

  private async removeFinalizer(
    i: ObjectIdentity,
    finalizer: string,
    cause?: number,
  ): Promise<'done' | 'retry'> {
    const latest = await this.getLive(i);
    if (!latest || latest.metadata.uid !== i.uid) return 'done';
    const finalizers = (latest.metadata.finalizers as string[] | undefined) ?? [];
    if (!finalizers.includes(finalizer)) return 'done';
    return this.patchMetadata(i, latest, { finalizers: finalizers.filter((f) => f !== finalizer) }, cause);
  }

  /** A merge patch of metadata, valid only against `latest` (its uid and resourceVersion). */
  private async patchMetadata(
    i: ObjectIdentity,
    latest: StoredObject,
    fields: Record<string, unknown>,
    cause?: number,
  ): Promise<'done' | 'retry'> {
    const path = this.pathOf(i);
    if (!path) return 'done';
    const metadata = { uid: i.uid, resourceVersion: latest.metadata.resourceVersion, ...fields };
    return this.write(() => this.api.patch(path, { metadata }, { cause }));
  }

  /** One write: gone already is success; a conflict (changed meanwhile) is retried after backoff. */
  private async write(call: () => Promise<unknown>): Promise<'done' | 'retry'> {
    try {
      await call();
      return 'done';
    } catch (e) {
      if (ApiError.isNotFound(e)) return 'done';
      if (ApiError.isConflict(e)) return 'retry';
      throw e;
    }
  }
}
