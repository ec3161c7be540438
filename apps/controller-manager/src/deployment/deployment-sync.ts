import { type ApiClient, ApiError, type EventRecorder, resourcePath } from '@app/client';
import { type LabelSelectorObject } from '@app/api';

import { claimObjects } from '../replicaset/controller-ref-manager.js';
import { controllerOf, type Pod } from '../replicaset/pod-types.js';
import { type ClaimingKind, controllerRef, REPLICA_SET, safeSelector } from '../replicaset/replica-kind.js';
import {
  type Deployment,
  type DeploymentStatus,
  DESIRED_REPLICAS_ANNOTATION,
  desiredOf,
  POD_TEMPLATE_HASH_LABEL,
  PROGRESSING,
  REASON,
  type ReplicaSet,
  replicasOf,
  REVISION_ANNOTATION,
} from './deployment-types.js';
import { maxSurge, newRSNewReplicas } from './fenceposts.js';
import {
  getCondition,
  hasProgressDeadline,
  newCondition,
  pausedConditionStatus,
  progressRequeueMs,
  rolloutStatus,
  calculateStatus,
  setCondition,
  deploymentComplete,
} from './progress.js';
import { planScale } from './proportion.js';
import {
  activeSets,
  actualReplicas,
  findNewReplicaSet,
  findOldReplicaSets,
  maxRevision,
  specReplicas,
} from './replica-sets.js';
import {
  setNewReplicaSetAnnotations,
  setsToCleanUp,
  replicasAnnotationsNeedUpdate,
  setReplicasAnnotations,
} from './revisions.js';
import { newReplicaSetTarget, oldReplicaSetsScaleDown } from './rolling.js';
import { computeHash, equalIgnoreHash } from './template-hash.js';

export const DEPLOYMENT: ClaimingKind = {
  resource: { group: 'apps', version: 'v1', plural: 'deployments' },
  apiVersion: 'apps/v1',
  kind: 'Deployment',
};
const RS = REPLICA_SET.resource;

/** What one sync needs from its controller. */
export interface SyncDeps {
  api: ApiClient;
  events: EventRecorder;
  /** The namespace's ReplicaSets and pods, from the shared informers. */
  replicaSetsIn(namespace: string): ReplicaSet[];
  podsIn(namespace: string): Pod[];
  /** Look at this Deployment again after ms (0: now, rate limited). */
  requeue(ms: number): void;
  /** Told the resourceVersion of each object this sync wrote (ReplicaSets by their key). */
  wrote(kind: 'deployment' | 'replicaset', key: string, resourceVersion: number): void;
  now(): number;
}

/**
 * One reconcile of one Deployment (deployment_controller.go syncDeployment with sync.go,
 * rolling.go, recreate.go and progress.go), on a private copy of the cached Deployment. The
 * decisions are the pure functions of this folder; this class only sequences the writes as
 * upstream does, each carrying as cause the seq of the Deployment version reconciled.
 *
 * Two differences from upstream, both of this API server: annotations written with a status
 * update would be dropped (its status subresource keeps all metadata), so the Deployment's
 * revision annotation is a merge patch of its own; and each write's answer replaces our copy,
 * so one sync's successive writes do not conflict with each other.
 */
export class DeploymentSync {
  private d: Deployment;
  private readonly cause: number;
  private readonly namespace: string;
  /** The latest version of each ReplicaSet we wrote, by uid. */
  private readonly written = new Map<string, ReplicaSet>();

  constructor(
    private readonly deps: SyncDeps,
    cached: Deployment,
  ) {
    this.d = structuredClone(cached);
    this.cause = Number(cached.metadata.resourceVersion);
    this.namespace = cached.metadata.namespace ?? '';
  }

  /** syncDeployment. An empty selector never gets here: the API server refuses one. */
  async run(): Promise<void> {
    const rsList = await this.claimReplicaSets();
    if (this.d.metadata.deletionTimestamp) return this.syncStatusOnly(rsList);
    await this.checkPausedConditions();
    if (this.d.spec?.paused) return this.sync(rsList);
    // spec.rollbackTo is gone in apps/v1: `kubectl rollout undo` patches the template itself.
    if (await this.isScalingEvent(rsList)) return this.sync(rsList);
    if (this.d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(rsList);
    return this.rolloutRolling(rsList);
  }

  /** getReplicaSetsForDeployment: ClaimReplicaSets over the namespace's sets. */
  private claimReplicaSets(): Promise<ReplicaSet[]> {
    const selector = safeSelector(this.d.spec?.selector as LabelSelectorObject | undefined);
    const candidates = this.deps.replicaSetsIn(this.namespace);
    return claimObjects(this.deps.api, DEPLOYMENT, this.d, selector, candidates, RS, this.cause);
  }

  /** The freshest copy we have of a set (ours, if this sync wrote it). */
  private fresh = (rs: ReplicaSet): ReplicaSet => this.written.get(rs.metadata.uid ?? '') ?? rs;
  private freshAll = (sets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] =>
    sets.filter((rs): rs is ReplicaSet => rs !== undefined).map(this.fresh);

  // --- sync.go ---

  private async syncStatusOnly(rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(rsList, false);
    await this.syncDeploymentStatus(this.freshAll([...oldRSs, newRS]), newRS && this.fresh(newRS));
  }

  /** sync: scale for a resize or while paused; clean history while paused; status. */
  private async sync(rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(rsList, false);
    await this.scale(newRS, oldRSs);
    if (this.d.spec?.paused) await this.cleanupDeployment(this.freshAll(oldRSs));
    await this.syncDeploymentStatus(this.freshAll([...oldRSs, newRS]), newRS && this.fresh(newRS));
  }

  private async checkPausedConditions(): Promise<void> {
    const status = pausedConditionStatus(this.d, this.deps.now());
    if (status) await this.updateStatus(status);
  }

  /** isScalingEvent: an active set annotated with another desired size than the Deployment's. */
  private async isScalingEvent(rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(rsList, false);
    return activeSets(this.freshAll([...oldRSs, newRS])).some((rs) => {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
      return desired !== undefined && /^\d+$/.test(desired) && Number(desired) !== desiredOf(this.d);
    });
  }

  /** getAllReplicaSetsAndSyncRevision. */
  private async allReplicaSetsAndSyncRevision(
    rsList: ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const sets = this.freshAll(rsList);
    const oldRSs = findOldReplicaSets(this.d, sets);
    const newRS = await this.getNewReplicaSet(sets, oldRSs, create);
    return { newRS, oldRSs };
  }

  private replicasAnnotations() {
    const desired = desiredOf(this.d);
    return { desired, max: desired + maxSurge(this.d) };
  }

  /**
   * getNewReplicaSet: the existing new set brought up to date (revision, copied annotations,
   * minReadySeconds), or — when asked to — a new one named after the template hash, with the
   * hash in its selector, labels and template.
   */
  private async getNewReplicaSet(
    sets: ReplicaSet[],
    oldRSs: ReplicaSet[],
    create: boolean,
  ): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(this.d, sets);
    const newRevision = maxRevision(oldRSs) + 1;
    const minReadySeconds = this.d.spec?.minReadySeconds ?? 0;
    if (existing) {
      const annotations = { ...existing.metadata.annotations };
      const changed = setNewReplicaSetAnnotations(
        this.d,
        annotations,
        newRevision,
        true,
        this.replicasAnnotations(),
      );
      if (changed || (existing.spec?.minReadySeconds ?? 0) !== minReadySeconds)
        return this.updateReplicaSet({
          ...existing,
          metadata: { ...existing.metadata, annotations },
          spec: { ...existing.spec, minReadySeconds },
        });
      await this.setDeploymentRevision(annotations[REVISION_ANNOTATION]);
      if (!getCondition(this.d.status, PROGRESSING)) {
        const status = this.statusCopy();
        const message = `Found new replica set "${existing.metadata.name}"`;
        setCondition(status, newCondition(PROGRESSING, 'True', REASON.foundNewRS, message, this.deps.now()));
        await this.updateStatus(status);
      }
      return existing;
    }
    if (!create) return undefined;

    const template = structuredClone(this.d.spec?.template ?? {});
    const hash = computeHash(template, this.d.status?.collisionCount);
    const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = structuredClone((this.d.spec?.selector ?? {}) as LabelSelectorObject);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${this.d.metadata.name}-${hash}`;
    const replicas = newRSNewReplicas(this.d, specReplicas(oldRSs), 0);
    const annotations: Record<string, string> = {};
    setNewReplicaSetAnnotations(this.d, annotations, newRevision, false, this.replicasAnnotations());
    const body = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: this.namespace,
        labels,
        annotations,
        ownerReferences: [controllerRef(DEPLOYMENT, this.d)],
      },
      spec: {
        replicas,
        minReadySeconds,
        selector,
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
    };
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.deps.api.create<ReplicaSet>(this.rsPath(), body, { cause: this.cause });
    } catch (e) {
      if (e instanceof ApiError && e.reason === 'AlreadyExists') {
        // Upstream reads its lister; the cache may not show the set yet, the API does.
        const found = await this.deps.api.get<ReplicaSet>(this.rsPath(name));
        if (
          controllerOf(found)?.uid !== this.d.metadata.uid ||
          !equalIgnoreHash(this.d.spec?.template, found.spec?.template)
        ) {
          // A hash collision: the next hash includes a higher collisionCount.
          const status = this.statusCopy();
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.updateStatus(status);
          throw e;
        }
        created = found;
        alreadyExists = true;
      } else if (e instanceof ApiError && e.code === 403) {
        throw e; // the namespace is terminating: nothing to report
      } else {
        const message = `Failed to create new replica set "${name}": ${(e as Error).message}`;
        if (hasProgressDeadline(this.d)) {
          const status = this.statusCopy();
          setCondition(
            status,
            newCondition(PROGRESSING, 'False', REASON.failedRSCreate, message, this.deps.now()),
          );
          await this.updateStatus(status).catch(() => undefined);
        }
        this.record('Warning', REASON.failedRSCreate, message);
        throw e;
      }
    }
    this.written.set(created.metadata.uid ?? '', created);
    this.deps.wrote('replicaset', `${this.namespace}/${name}`, Number(created.metadata.resourceVersion));
    if (!alreadyExists && replicas > 0)
      this.record('Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    await this.setDeploymentRevision(String(newRevision));
    if (!alreadyExists && hasProgressDeadline(this.d)) {
      const status = this.statusCopy();
      const message = `Created new replica set "${name}"`;
      setCondition(status, newCondition(PROGRESSING, 'True', REASON.newRSCreated, message, this.deps.now()));
      await this.updateStatus(status);
    }
    return created;
  }

  /** scale: the resize of a Deployment spread over its sets (proportion.ts). */
  private async scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    for (const step of planScale(this.d, newRS && this.fresh(newRS), this.freshAll(oldRSs))) {
      if (step.proportional) await this.scaleReplicaSet(step.rs, step.replicas, step.operation);
      else await this.scaleReplicaSetAndRecordEvent(step.rs, step.replicas);
    }
  }

  /**
   * cleanupDeployment: old sets past revisionHistoryLimit deleted, lowest revision first.
   * Upstream ignores only NotFound; any other error fails the sync.
   */
  private async cleanupDeployment(oldRSs: ReplicaSet[]): Promise<void> {
    for (const rs of setsToCleanUp(this.d, oldRSs)) {
      try {
        await this.deps.api.delete(this.rsPath(rs.metadata.name), undefined, { cause: this.cause });
      } catch (e) {
        if (!ApiError.isNotFound(e)) throw e;
      }
    }
  }

  /** syncDeploymentStatus: calculateStatus written when it differs. */
  private async syncDeploymentStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    await this.updateStatus(calculateStatus(this.d, allRSs, newRS, this.deps.now()));
  }

  /** scaleReplicaSetAndRecordEvent: scaleReplicaSet, unless the size is already right. */
  private scaleReplicaSetAndRecordEvent(rs: ReplicaSet, replicas: number): Promise<boolean> {
    if (replicasOf(this.fresh(rs)) === replicas) return Promise.resolve(false);
    return this.scaleReplicaSet(rs, replicas);
  }

  /**
   * scaleReplicaSet: a new size and the replicas annotations written (when either differs);
   * a ScalingReplicaSet event when the size changed. True when it did.
   */
  private async scaleReplicaSet(
    rs: ReplicaSet,
    replicas: number,
    operation?: 'up' | 'down',
  ): Promise<boolean> {
    rs = this.fresh(rs);
    const from = replicasOf(rs);
    const { desired, max } = this.replicasAnnotations();
    const sizeChanges = from !== replicas;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const annotations = { ...rs.metadata.annotations };
    setReplicasAnnotations(annotations, desired, max);
    await this.updateReplicaSet({
      ...rs,
      metadata: { ...rs.metadata, annotations },
      spec: { ...rs.spec, replicas },
    });
    if (!sizeChanges) return false;
    const op = operation ?? (from < replicas ? 'up' : 'down');
    this.record(
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${op} replica set ${rs.metadata.name} from ${from} to ${replicas}`,
    );
    return true;
  }

  // --- rolling.go ---

  private async rolloutRolling(rsList: ReplicaSet[]): Promise<void> {
    const got = await this.allReplicaSetsAndSyncRevision(rsList, true);
    const newRS = got.newRS && this.fresh(got.newRS);
    const oldRSs = this.freshAll(got.oldRSs);
    if (!newRS) throw new Error('no new ReplicaSet'); // getNewReplicaSet(create) returns one or throws
    const target = newReplicaSetTarget(this.d, [...oldRSs, newRS], newRS);
    if (target !== undefined && (await this.scaleReplicaSetAndRecordEvent(newRS, target)))
      return this.syncRolloutStatus(this.freshAll([...oldRSs, newRS]), this.fresh(newRS));
    let scaledDown = false;
    for (const step of oldReplicaSetsScaleDown(
      this.d,
      [...oldRSs, newRS],
      activeSets(oldRSs),
      this.fresh(newRS),
    ))
      if (await this.scaleReplicaSetAndRecordEvent(step.rs, step.replicas)) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(this.freshAll([...oldRSs, newRS]), this.fresh(newRS));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(this.freshAll(oldRSs));
    return this.syncRolloutStatus(this.freshAll([...oldRSs, newRS]), this.fresh(newRS));
  }

  // --- recreate.go ---

  private async rolloutRecreate(rsList: ReplicaSet[]): Promise<void> {
    // No new set yet, so that nothing is scaled up before the old pods are gone.
    let { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(rsList, false);
    let scaledDown = false;
    for (const rs of activeSets(this.freshAll(oldRSs)))
      if (await this.scaleReplicaSetAndRecordEvent(rs, 0)) scaledDown = true;
    if (scaledDown || this.oldPodsRunning(newRS, this.freshAll(oldRSs)))
      return this.syncRolloutStatus(this.freshAll([...oldRSs, newRS]), newRS && this.fresh(newRS));
    if (!newRS) ({ newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(rsList, true));
    if (newRS) await this.scaleReplicaSetAndRecordEvent(newRS, desiredOf(this.d));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(this.freshAll(oldRSs));
    return this.syncRolloutStatus(this.freshAll([...oldRSs, newRS]), newRS && this.fresh(newRS));
  }

  /**
   * oldPodsRunning: old sets still report pods, or a pod of one of this Deployment's other
   * sets is not terminal — a pod being deleted counts until it is gone (getPodMapForDeployment).
   */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (actualReplicas(oldRSs) > 0) return true;
    const old = new Set(oldRSs.map((rs) => rs.metadata.uid));
    return this.deps.podsIn(this.namespace).some((p) => {
      const owner = controllerOf(p)?.uid;
      if (!owner || owner === newRS?.metadata.uid || !old.has(owner)) return false;
      return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
    });
  }

  // --- progress.go ---

  /** syncRolloutStatus: the status with Progressing brought up to date; requeued for the deadline. */
  private async syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = rolloutStatus(this.d, allRSs, newRS, this.deps.now());
    if (!(await this.updateStatus(status))) {
      const after = progressRequeueMs(this.d, status, this.deps.now());
      if (after !== undefined) this.deps.requeue(after);
    }
  }

  // --- writes ---

  private rsPath(name?: string): string {
    return resourcePath({ ...RS, namespace: this.namespace, name });
  }

  private statusCopy(): DeploymentStatus {
    return structuredClone(this.d.status ?? {});
  }

  private async updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    const updated = await this.deps.api.update<ReplicaSet>(this.rsPath(rs.metadata.name), rs, {
      cause: this.cause,
    });
    this.written.set(updated.metadata.uid ?? '', updated);
    this.deps.wrote(
      'replicaset',
      `${this.namespace}/${rs.metadata.name}`,
      Number(updated.metadata.resourceVersion),
    );
    return updated;
  }

  /** UpdateStatus when the status differs (upstream's DeepEqual); false when nothing was written. */
  private async updateStatus(status: DeploymentStatus): Promise<boolean> {
    if (JSON.stringify(normalStatus(status)) === JSON.stringify(normalStatus(this.d.status ?? {})))
      return false;
    const path = resourcePath({
      ...DEPLOYMENT.resource,
      namespace: this.namespace,
      name: this.d.metadata.name,
    });
    this.d = await this.deps.api.update<Deployment>(
      `${path}/status`,
      { ...this.d, status },
      { cause: this.cause },
    );
    this.wroteDeployment();
    return true;
  }

  /** SetDeploymentRevision, as a metadata patch (see the class comment). */
  private async setDeploymentRevision(revision: string | undefined): Promise<void> {
    if (revision === undefined || this.d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    const path = resourcePath({
      ...DEPLOYMENT.resource,
      namespace: this.namespace,
      name: this.d.metadata.name,
    });
    const patched = await this.deps.api.patch<Deployment>(
      path,
      {
        metadata: {
          resourceVersion: this.d.metadata.resourceVersion,
          annotations: { [REVISION_ANNOTATION]: revision },
        },
      },
      { cause: this.cause, contentType: 'application/merge-patch+json' },
    );
    this.d = { ...patched, status: this.d.status };
    this.wroteDeployment();
  }

  private wroteDeployment(): void {
    this.deps.wrote(
      'deployment',
      `${this.namespace}/${this.d.metadata.name}`,
      Number(this.d.metadata.resourceVersion),
    );
  }

  private record(type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Listed objects carry no kind; the Event's involvedObject must name it (kubectl describe matches on it).
    const object = { ...this.d, apiVersion: DEPLOYMENT.apiVersion, kind: DEPLOYMENT.kind };
    this.deps.events.record({ object, type, reason, message, cause: this.cause });
  }
}

/** A status in a comparable form: fields in one order, absent and undefined alike. */
function normalStatus(s: DeploymentStatus): unknown {
  return {
    observedGeneration: s.observedGeneration,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    unavailableReplicas: s.unavailableReplicas ?? 0,
    collisionCount: s.collisionCount,
    conditions: (s.conditions ?? []).map((c) => [
      c.type,
      c.status,
      c.reason,
      c.message,
      c.lastUpdateTime,
      c.lastTransitionTime,
    ]),
  };
}
