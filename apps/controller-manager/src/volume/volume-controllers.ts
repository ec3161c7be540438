import {
  type ApiClient,
  type EventRecorder,
  type Informer,
  type RateLimiter,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type Controller } from '../controller.js';
import { type Pod } from '../replicaset/pod-types.js';
import { LocalPathProvisioner } from './local-path/local-path-provisioner.js';
import { PersistentVolumeController } from './pv-binder/pv-controller.js';
import {
  type PersistentVolume,
  type PersistentVolumeClaim,
  PVCS,
  PVS,
  STORAGE_CLASSES,
  type StorageClass,
} from './volume-types.js';

/** What the manager lends the volume controllers. */
export interface VolumeControllerContext {
  /** Whether `--controllers` enables a controller (the manager's controllerEnabled). */
  enabled(name: string): boolean;
  api: ApiClient;
  identity: string;
  informer<T extends StoredObject>(resource: { group: string; version: string; plural: string }): Informer<T>;
  pods: Informer<Pod>;
  /** An event recorder for one component, flushed by the manager on shutdown. */
  recorder(component: string): EventRecorder;
  rateLimiter(): RateLimiter<string>;
  localPathBaseDir?: string;
  pvResyncMs?: number;
  onTrouble(name: string): (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/** The persistentvolume-binder and the local-path-provisioner, as `--controllers` enables them. */
export function volumeControllers(c: VolumeControllerContext): Controller[] {
  const out: Controller[] = [];
  const want = (name: string) => c.enabled(name);
  if (!want('persistentvolume-binder') && !want('local-path-provisioner')) return out;
  const claims = c.informer<PersistentVolumeClaim>(PVCS);
  const volumes = c.informer<PersistentVolume>(PVS);
  const classes = c.informer<StorageClass>(STORAGE_CLASSES);
  if (want('persistentvolume-binder'))
    out.push(
      new PersistentVolumeController({
        api: c.api,
        claims,
        volumes,
        classes,
        pods: c.pods,
        events: c.recorder('persistentvolume-controller'),
        rateLimiter: c.rateLimiter,
        resyncMs: c.pvResyncMs,
        onTrouble: c.onTrouble('persistentvolume-binder'),
        queueMetrics: c.queueMetrics,
      }),
    );
  if (want('local-path-provisioner'))
    out.push(
      new LocalPathProvisioner({
        api: c.api,
        claims,
        volumes,
        classes,
        nodes: c.informer({ group: '', version: 'v1', plural: 'nodes' }),
        events: c.recorder('rancher.io/local-path'),
        baseDir: c.localPathBaseDir,
        rateLimiter: c.rateLimiter,
        onTrouble: c.onTrouble('local-path-provisioner'),
        queueMetrics: c.queueMetrics,
      }),
    );
  return out;
}
