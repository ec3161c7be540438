import {
  type ApiClient,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  splitKey,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';

import { type Controller, processQueue } from '../../controller.js';
import { type Pod } from '../../replicaset/pod-types.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_STORAGE_PROVISIONER,
  annotation,
  claimClass,
  hasAnnotation,
  isDelayBindingMode,
  isDelayBindingProvisioning,
  isVolumeBoundToClaim,
  NO_PROVISIONER,
  type PersistentVolume,
  type PersistentVolumeClaim,
  podClaimNames,
  PVCS,
  PVS,
  type StorageClass,
  volumeModeMismatches,
} from '../volume-types.js';
import { LatestVersions } from './latest-versions.js';
import { findBestMatchForClaim, volumeUnsatisfiedReason } from './match.js';

/** Upstream's --pvclaimbinder-sync-period: every claim and volume is looked at again this often. */
export const PV_RESYNC_MS = 15_000;

export interface PersistentVolumeControllerOptions {
  api: ApiClient;
  claims: Informer<PersistentVolumeClaim>;
  volumes: Informer<PersistentVolume>;
  classes: Informer<StorageClass>;
  /** The shared pods informer, indexed by namespace (for "waiting for pod x to be scheduled"). */
  pods: Informer<Pod>;
  events: EventRecorder;
  /** A fresh rate limiter per queue (claims and volumes each have one). */
  rateLimiter?: () => RateLimiter<string>;
  resyncMs?: number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

type Json = Record<string, unknown>;

const clone = <T>(o: T): T => structuredClone(o);

function setAnnotation(o: { metadata: { annotations?: unknown } }, key: string, value: string): void {
  o.metadata.annotations = { ...((o.metadata.annotations as Json | undefined) ?? {}), [key]: value };
}

/**
 * The PersistentVolume binder (pkg/controller/volume/persistentvolume/pv_controller.go and
 * pv_controller_base.go): claims and volumes each have a queue; syncClaim binds an unbound
 * claim to the best Available volume (or asks its class's provisioner for one, or waits for
 * the scheduler under WaitForFirstConsumer) and keeps bound claims Bound or Lost; syncVolume
 * keeps phases right, unbinds volumes the controller bound to a claim that went elsewhere,
 * and releases and reclaims (Retain, Delete) volumes whose claim is gone. Every write carries
 * the resourceVersion of the claim or volume it reconciled as its cause.
 */
export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  readonly claimQueue: WorkQueue<string>;
  readonly volumeQueue: WorkQueue<string>;
  private workers: Promise<void>[] = [];
  private resync?: NodeJS.Timeout;
  private readonly claims: LatestVersions<PersistentVolumeClaim>;
  private readonly volumes: LatestVersions<PersistentVolume>;

  constructor(private readonly o: PersistentVolumeControllerOptions) {
    this.claims = new LatestVersions(o.claims.cache);
    this.volumes = new LatestVersions(o.volumes.cache);
    this.claimQueue = new WorkQueue<string>(o.rateLimiter?.(), {
      name: 'claims',
      metrics: o.queueMetrics,
    });
    this.volumeQueue = new WorkQueue<string>(o.rateLimiter?.(), {
      name: 'volumes',
      metrics: o.queueMetrics,
    });
    o.claims.onChange((c) => {
      if (c.type !== 'deleted') return this.claimQueue.add(objectKey(c.object));
      // deleteClaim: the volume it was bound to is released.
      const volume = c.object.spec?.volumeName;
      if (volume) this.volumeQueue.add(volume);
    });
    o.volumes.onChange((c) => {
      if (c.type !== 'deleted') return this.volumeQueue.add(objectKey(c.object));
      // deleteVolume: a claim bound to it becomes Lost.
      const ref = c.object.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(`${ref.namespace ?? ''}/${ref.name}`);
    });
  }

  start(): void {
    if (this.workers.length > 0) return;
    this.resyncAll();
    this.resync = setInterval(() => this.resyncAll(), this.o.resyncMs ?? PV_RESYNC_MS);
    const onError = (e: Error, key: string) => this.o.onTrouble?.(e, key);
    this.workers.push(processQueue(this.volumeQueue, (k) => this.syncVolumeKey(k), onError));
    this.workers.push(processQueue(this.claimQueue, (k) => this.syncClaimKey(k), onError));
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    await Promise.all([this.claimQueue.shutdownAndDrain(), this.volumeQueue.shutdownAndDrain()]);
    await Promise.all(this.workers);
  }

  private resyncAll(): void {
    for (const v of this.o.volumes.cache.list()) this.volumeQueue.add(objectKey(v));
    for (const c of this.o.claims.cache.list()) this.claimQueue.add(objectKey(c));
  }

  private classOf = (name: string) => this.o.classes.cache.get(name);

  // --- claims (syncClaim) ---

  async syncClaimKey(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim) return;
    const cause = Number(claim.metadata.resourceVersion);
    if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) await this.syncUnboundClaim(claim, cause);
    else await this.syncBoundClaim(claim, cause);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim, cause: number): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      const delayBinding = isDelayBindingMode(claim, this.classOf);
      const volume = findBestMatchForClaim(claim, this.volumes.list(), delayBinding);
      if (volume) return this.bind(volume, claim, cause);
      if (delayBinding && !isDelayBindingProvisioning(claim)) {
        this.emitForUnboundDelayBindingClaim(claim, cause);
      } else if (claimClass(claim) !== '') {
        // provisionClaim: the class's provisioner makes the volume; its PV sync enqueues us.
        await this.provisionClaim(claim, cause);
        return;
      } else {
        this.event(
          claim,
          'Normal',
          'FailedBinding',
          'no persistent volumes available for this claim and no storage class is set',
          cause,
        );
      }
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    // The user asked for a specific volume.
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeUnsatisfiedReason(volume, claim);
      if (why === undefined) return this.bind(volume, claim, cause);
      this.event(
        claim,
        'Warning',
        'VolumeMismatch',
        `Cannot bind to requested volume "${volumeName}": ${why}`,
        cause,
      );
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) return this.bind(volume, claim, cause);
    if (!hasAnnotation(claim, ANN_BOUND_BY_CONTROLLER)) {
      // Claimed by someone else: the user's choice stands; retried later.
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    throw new Error(
      `invalid binding of claim "${objectKey(claim)}" to volume "${volumeName}": volume already claimed by "${volume.spec.claimRef.namespace}/${volume.spec.claimRef.name}"`,
    );
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim, cause: number): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
        cause,
      );
      return;
    }
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
        cause,
      );
      return;
    }
    const ref = volume.spec?.claimRef;
    // Unbound volume (or a cache not yet showing our write), or all is well: bind() makes it so.
    if (!ref || ref.uid === claim.metadata.uid) return this.bind(volume, claim, cause);
    await this.claimLost(
      claim,
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
      cause,
    );
  }

  private async claimLost(
    claim: PersistentVolumeClaim,
    reason: string,
    message: string,
    cause: number,
  ): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    await this.updateClaimStatus(claim, 'Lost', undefined, cause);
    this.event(claim, 'Warning', reason, message, cause);
  }

  /** emitEventForUnboundDelayBindingClaim. */
  private emitForUnboundDelayBindingClaim(claim: PersistentVolumeClaim, cause: number): void {
    const waiting = this.o.pods.cache
      .byIndex('namespace', claim.metadata.namespace ?? '')
      .filter((p) => !p.spec?.nodeName && podClaimNames(p).includes(claim.metadata.name ?? ''))
      .map((p) => p.metadata.name ?? '');
    if (waiting.length === 0)
      this.event(
        claim,
        'Normal',
        'WaitForFirstConsumer',
        'waiting for first consumer to be created before binding',
        cause,
      );
    else
      this.event(
        claim,
        'Normal',
        'WaitForPodScheduled',
        waiting.length > 1
          ? `waiting for pods ${waiting.join(',')} to be scheduled`
          : `waiting for pod ${waiting[0]} to be scheduled`,
        cause,
      );
  }

  /**
   * provisionClaimOperation for an external provisioner (every provisioner is external here):
   * the claim is annotated with its class's provisioner, which makes the volume.
   */
  private async provisionClaim(claim: PersistentVolumeClaim, cause: number): Promise<void> {
    const className = claimClass(claim);
    const sc = this.classOf(className);
    if (!sc) {
      this.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${className}" not found`,
        cause,
      );
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    const provisioner = sc.provisioner ?? '';
    if (provisioner === NO_PROVISIONER || provisioner === '') {
      this.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `no volume plugin matched name: ${provisioner}`,
        cause,
      );
      await this.updateClaimStatus(claim, 'Pending', undefined, cause);
      return;
    }
    let current = claim;
    if (
      annotation(claim, ANN_STORAGE_PROVISIONER) !== provisioner ||
      annotation(claim, ANN_BETA_STORAGE_PROVISIONER) !== provisioner
    ) {
      // setClaimProvisioner.
      const next = clone(claim);
      setAnnotation(next, ANN_STORAGE_PROVISIONER, provisioner);
      setAnnotation(next, ANN_BETA_STORAGE_PROVISIONER, provisioner);
      current = await this.write(PVCS, next, cause);
    }
    this.event(
      current,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      cause,
    );
    await this.updateClaimStatus(current, 'Pending', undefined, cause);
  }

  // --- volumes (syncVolume) ---

  async syncVolumeKey(key: string): Promise<void> {
    const volume = this.volumes.get(key);
    if (!volume) return;
    const cause = Number(volume.metadata.resourceVersion);
    const ref = volume.spec?.claimRef;
    // Unused, or reserved for a claim that has not bound yet (its claim sync does that).
    if (!ref || !ref.uid) {
      await this.updateVolumePhase(volume, 'Available', '', cause);
      return;
    }
    const claimKey = `${ref.namespace ?? ''}/${ref.name ?? ''}`;
    let claim = this.claims.get(claimKey);
    if (!claim && volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
      // A provisioner or the scheduler may have bound it before our cache saw the claim: ask the API.
      claim = await this.liveClaim(claimKey);
    }
    if (claim && claim.metadata.uid !== ref.uid) {
      // Deleted and made again under the same name, unless our cache is behind.
      const live = await this.liveClaim(claimKey);
      claim = live && live.metadata.uid === ref.uid ? live : undefined;
    }
    if (!claim) {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed')
        current = await this.updateVolumePhase(volume, 'Released', '', cause);
      await this.reclaimVolume(current, cause);
      return;
    }
    const claimVolume = claim.spec?.volumeName ?? '';
    if (claimVolume === '') {
      if (volumeModeMismatches(claim, volume)) {
        this.event(
          volume,
          'Warning',
          'VolumeMismatch',
          `Cannot bind PersistentVolume to requested PersistentVolumeClaim "${claim.metadata.name}" due to incompatible volumeMode.`,
          cause,
        );
        this.event(
          claim,
          'Warning',
          'VolumeMismatch',
          `Cannot bind PersistentVolume "${volume.metadata.name}" to requested PersistentVolumeClaim due to incompatible volumeMode.`,
          cause,
        );
        return;
      }
      // Bound volume, Pending claim: the claim's sync completes it (this is how provisioned volumes bind).
      this.claimQueue.add(claimKey);
      return;
    }
    if (claimVolume === volume.metadata.name) {
      await this.updateVolumePhase(volume, 'Bound', '', cause);
      return;
    }
    // The claim went to another volume.
    if (
      hasAnnotation(volume, ANN_DYNAMICALLY_PROVISIONED) &&
      volume.spec?.persistentVolumeReclaimPolicy === 'Delete'
    ) {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed')
        current = await this.updateVolumePhase(volume, 'Released', '', cause);
      await this.reclaimVolume(current, cause);
      return;
    }
    await this.unbindVolume(volume, cause);
  }

  private async liveClaim(key: string): Promise<PersistentVolumeClaim | undefined> {
    const { namespace, name } = splitKey(key);
    return this.o.api.getIfExists<PersistentVolumeClaim>(resourcePath({ ...PVCS, namespace, name }));
  }

  /** reclaimVolume: Retain keeps it; Delete is the provisioner's job (or fails); Recycle is not supported. */
  private async reclaimVolume(volume: PersistentVolume, cause: number): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy;
    if (policy === 'Retain') return;
    if (policy === 'Delete') {
      // deleteVolumeOperation → doDeleteVolume: a volume made by an external provisioner waits for
      // it to delete the volume; for any other there is no deleter plugin in Wake.
      const by = annotation(volume, ANN_DYNAMICALLY_PROVISIONED);
      if (by !== undefined && !by.startsWith('kubernetes.io/')) return;
      if (volume.status?.phase === 'Failed') return;
      await this.updateVolumePhaseWithEvent(
        volume,
        'Failed',
        'VolumeFailedDelete',
        `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`,
        cause,
      );
      return;
    }
    if (policy === 'Recycle') {
      if (volume.status?.phase === 'Failed') return;
      await this.updateVolumePhaseWithEvent(
        volume,
        'Failed',
        'VolumeFailedRecycle',
        'No recycler plugin found for the volume!',
        cause,
      );
      return;
    }
    if (volume.status?.phase === 'Failed') return;
    await this.updateVolumePhaseWithEvent(
      volume,
      'Failed',
      'VolumeUnknownReclaimPolicy',
      'Volume has unrecognized PersistentVolumeReclaimPolicy',
      cause,
    );
  }

  /** unbindVolume: a controller-made binding is undone; a user's pre-binding keeps its name and loses the uid. */
  private async unbindVolume(volume: PersistentVolume, cause: number): Promise<void> {
    const next = clone(volume);
    next.spec ??= {};
    if (hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER)) {
      delete next.spec.claimRef;
      const annotations = { ...((next.metadata.annotations as Record<string, string> | undefined) ?? {}) };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      next.metadata.annotations = annotations;
    } else if (next.spec.claimRef) {
      next.spec.claimRef = { ...next.spec.claimRef, uid: '' };
    }
    const written = await this.write(PVS, next, cause);
    await this.updateVolumePhase(written, 'Available', '', cause);
  }

  // --- binding (bind, bindVolumeToClaim, bindClaimToVolume) ---

  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim, cause: number): Promise<void> {
    const boundVolume = await this.bindVolumeToClaim(volume, claim, cause);
    const phased = await this.updateVolumePhase(boundVolume, 'Bound', '', cause);
    const boundClaim = await this.bindClaimToVolume(claim, phased, cause);
    await this.updateClaimStatus(boundClaim, 'Bound', phased, cause);
  }

  private async bindVolumeToClaim(
    volume: PersistentVolume,
    claim: PersistentVolumeClaim,
    cause: number,
  ): Promise<PersistentVolume> {
    const next = clone(volume);
    next.spec ??= {};
    let dirty = false;
    const ref = volume.spec?.claimRef;
    if (
      !ref ||
      ref.name !== claim.metadata.name ||
      ref.namespace !== claim.metadata.namespace ||
      ref.uid !== claim.metadata.uid
    ) {
      next.spec.claimRef = {
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: claim.metadata.resourceVersion,
      };
      dirty = true;
    }
    if (!isVolumeBoundToClaim(volume, claim) && !hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER)) {
      setAnnotation(next, ANN_BOUND_BY_CONTROLLER, 'yes');
      dirty = true;
    }
    return dirty ? this.write(PVS, next, cause) : volume;
  }

  private async bindClaimToVolume(
    claim: PersistentVolumeClaim,
    volume: PersistentVolume,
    cause: number,
  ): Promise<PersistentVolumeClaim> {
    const next = clone(claim);
    next.spec ??= {};
    let dirty = false;
    if (claim.spec?.volumeName !== volume.metadata.name) {
      next.spec.volumeName = volume.metadata.name;
      if (!hasAnnotation(claim, ANN_BOUND_BY_CONTROLLER)) setAnnotation(next, ANN_BOUND_BY_CONTROLLER, 'yes');
      dirty = true;
    }
    if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) {
      setAnnotation(next, ANN_BIND_COMPLETED, 'yes');
      dirty = true;
    }
    return dirty ? this.write(PVCS, next, cause) : claim;
  }

  // --- status writes ---

  /** updateClaimStatus: the phase, and the volume's access modes and capacity once Bound (cleared before). */
  private async updateClaimStatus(
    claim: PersistentVolumeClaim,
    phase: string,
    volume: PersistentVolume | undefined,
    cause: number,
  ): Promise<PersistentVolumeClaim> {
    const status = { ...(claim.status ?? {}) };
    status.phase = phase;
    if (volume) {
      status.accessModes = volume.spec?.accessModes;
      status.capacity = volume.spec?.capacity;
    } else {
      delete status.accessModes;
      delete status.capacity;
    }
    if (JSON.stringify(status) === JSON.stringify(claim.status ?? {})) return claim;
    return this.write(PVCS, { ...claim, status }, cause, 'status');
  }

  private async updateVolumePhase(
    volume: PersistentVolume,
    phase: string,
    message: string,
    cause: number,
  ): Promise<PersistentVolume> {
    const old = volume.status ?? {};
    if (old.phase === phase && (old.message ?? '') === message) return volume;
    const status: NonNullable<PersistentVolume['status']> = { ...old, phase };
    if (message) status.message = message;
    else delete status.message;
    if (old.phase !== phase)
      status.lastPhaseTransitionTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return this.write(PVS, { ...volume, status }, cause, 'status');
  }

  private async updateVolumePhaseWithEvent(
    volume: PersistentVolume,
    phase: string,
    reason: string,
    message: string,
    cause: number,
  ): Promise<PersistentVolume> {
    const updated = await this.updateVolumePhase(volume, phase, message, cause);
    this.event(updated, 'Warning', reason, message, cause);
    return updated;
  }

  /** A PUT with the object's resourceVersion: a stale cache fails with a conflict and the key is retried. */
  private async write<T extends PersistentVolume | PersistentVolumeClaim>(
    resource: typeof PVS,
    o: T,
    cause: number,
    subresource?: string,
  ): Promise<T> {
    const path = resourcePath({
      ...resource,
      namespace: o.metadata.namespace,
      name: o.metadata.name ?? '',
      subresource,
    });
    const written = await this.o.api.update<T>(path, o, { cause });
    // The one store matching the kind written: claims have a namespace, volumes do not.
    if (written.metadata.namespace) this.claims.stored(written as PersistentVolumeClaim);
    else this.volumes.stored(written as PersistentVolume);
    return written;
  }

  private event(
    object: PersistentVolume | PersistentVolumeClaim,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    cause: number,
  ): void {
    this.o.events.record({ object, type, reason, message, cause });
  }
}
