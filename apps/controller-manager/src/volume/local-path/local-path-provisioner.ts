import {
  type ApiClient,
  ApiError,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type Controller, processQueue } from '../../controller.js';
import {
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  annotation,
  claimClass,
  type PersistentVolume,
  type PersistentVolumeClaim,
  PVS,
  STORAGE_CLASSES,
  type StorageClass,
} from '../volume-types.js';
import {
  DEFAULT_LOCAL_PATH_BASE_DIR,
  LOCAL_PATH_PROVISIONER,
  localPathStorageClass,
  localPathVolume,
  provisionedVolumeName,
  shouldProvision,
} from './local-path-volume.js';

export interface LocalPathProvisionerOptions {
  api: ApiClient;
  claims: Informer<PersistentVolumeClaim>;
  volumes: Informer<PersistentVolume>;
  classes: Informer<StorageClass>;
  nodes: Informer;
  events: EventRecorder;
  /** Where volumes live on their node (--local-path-base-dir). */
  baseDir?: string;
  rateLimiter?: () => RateLimiter<string>;
  /** How long to wait between attempts to make the StorageClass while the API refuses. */
  classRetryMs?: number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * Wake's local-path provisioner, as k3s bundles rancher's (an external provisioner on
 * sig-storage-lib-external-provisioner, run here as a controller): makes the `local-path`
 * StorageClass if absent; for each claim the PV controller hands to `rancher.io/local-path`
 * with a node chosen by the scheduler, creates a hostPath PV on that node, pre-bound to the
 * claim (the PV controller completes the binding); deletes its Released volumes whose policy
 * is Delete. The data directory is left on the node: upstream removes it with a helper pod,
 * Wake has no such cleanup yet.
 */
export class LocalPathProvisioner implements Controller {
  readonly name = 'local-path-provisioner';
  readonly claimQueue: WorkQueue<string>;
  readonly volumeQueue: WorkQueue<string>;
  private workers: Promise<void>[] = [];
  private stopped = false;
  private classRetry?: NodeJS.Timeout;

  constructor(private readonly o: LocalPathProvisionerOptions) {
    this.claimQueue = new WorkQueue<string>(o.rateLimiter?.(), {
      name: 'local-path-claims',
      metrics: o.queueMetrics,
    });
    this.volumeQueue = new WorkQueue<string>(o.rateLimiter?.(), {
      name: 'local-path-volumes',
      metrics: o.queueMetrics,
    });
    o.claims.onChange((c) => {
      if (c.type !== 'deleted') this.claimQueue.add(objectKey(c.object));
    });
    o.volumes.onChange((c) => {
      if (c.type !== 'deleted') this.volumeQueue.add(objectKey(c.object));
    });
    // A claim that arrived before its class is looked at again when the class does.
    o.classes.onChange((c) => {
      if (c.type === 'deleted') return;
      for (const claim of o.claims.cache.list())
        if (claimClass(claim) === c.object.metadata.name) this.claimQueue.add(objectKey(claim));
    });
  }

  get baseDir(): string {
    return this.o.baseDir ?? DEFAULT_LOCAL_PATH_BASE_DIR;
  }

  start(): void {
    if (this.workers.length > 0) return;
    this.stopped = false;
    this.ensureStorageClass();
    for (const c of this.o.claims.cache.list()) this.claimQueue.add(objectKey(c));
    for (const v of this.o.volumes.cache.list()) this.volumeQueue.add(objectKey(v));
    const onError = (e: Error, key: string) => this.o.onTrouble?.(e, key);
    this.workers.push(processQueue(this.claimQueue, (k) => this.syncClaim(k), onError));
    this.workers.push(processQueue(this.volumeQueue, (k) => this.syncVolume(k), onError));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.classRetry);
    await Promise.all([this.claimQueue.shutdownAndDrain(), this.volumeQueue.shutdownAndDrain()]);
    await Promise.all(this.workers);
  }

  /** k3s deploys the class with the provisioner; here the provisioner makes it, once, if absent. */
  private ensureStorageClass(): void {
    const sc = localPathStorageClass();
    if (this.o.classes.cache.get(sc.metadata.name ?? '')) return;
    this.o.api.create(resourcePath(STORAGE_CLASSES), sc).catch((e: unknown) => {
      if (e instanceof ApiError && e.code === 409) return;
      this.o.onTrouble?.(e as Error, 'storageclass/local-path');
      if (!this.stopped)
        this.classRetry = setTimeout(() => this.ensureStorageClass(), this.o.classRetryMs ?? 1000);
    });
  }

  /** provisionClaimOperation. */
  async syncClaim(key: string): Promise<void> {
    const claim = this.o.claims.cache.get(key);
    if (!claim) return;
    const sc = this.o.classes.cache.get(claimClass(claim));
    if (!shouldProvision(claim, sc) || !sc) return;
    const name = provisionedVolumeName(claim);
    if (this.o.volumes.cache.get(name)) return;
    const cause = Number(claim.metadata.resourceVersion);
    const nodeName = annotation(claim, ANN_SELECTED_NODE);
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      this.o.events.record({ object: claim, type, reason, message, cause });
    event('Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
    try {
      // local-path keeps data on one node: without a chosen node there is nowhere to put it.
      if (!nodeName) throw new Error('configuration error, no node was specified');
      const volume = localPathVolume(claim, sc, this.o.nodes.cache.get(nodeName), nodeName, this.baseDir);
      await this.o.api.create<StoredObject>(resourcePath(PVS), volume, { cause }).catch((e: unknown) => {
        // Made already (our cache is behind): provisioned all the same.
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      });
    } catch (e) {
      event(
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${sc.metadata.name}": ${(e as Error).message}`,
      );
      throw e;
    }
    event('Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
  }

  /** deleteVolumeOperation: our Released volumes with reclaim policy Delete go. */
  async syncVolume(key: string): Promise<void> {
    const volume = this.o.volumes.cache.get(key);
    if (!volume || volume.metadata.deletionTimestamp) return;
    if (annotation(volume, ANN_DYNAMICALLY_PROVISIONED) !== LOCAL_PATH_PROVISIONER) return;
    if (volume.status?.phase !== 'Released' || volume.spec?.persistentVolumeReclaimPolicy !== 'Delete')
      return;
    const cause = Number(volume.metadata.resourceVersion);
    try {
      await this.o.api.delete(resourcePath({ ...PVS, name: volume.metadata.name ?? '' }), undefined, {
        cause,
      });
    } catch (e) {
      if (ApiError.isNotFound(e)) return;
      this.o.events.record({
        object: volume,
        type: 'Warning',
        reason: 'VolumeFailedDelete',
        message: (e as Error).message,
        cause,
      });
      throw e;
    }
  }
}
