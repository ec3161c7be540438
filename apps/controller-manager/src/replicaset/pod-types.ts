import { type StoredObject } from '@app/event-store';

import { type OwnerReference } from '../owner-reference.js';

export type { OwnerReference };

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface PodContainer {
  name: string;
  image?: string;
  restartPolicy?: string;
  ports?: ContainerPort[];
}

export interface ContainerStatus {
  restartCount?: number;
}

/** The parts of a pod the replica controllers read. */
export type Pod = StoredObject & {
  metadata: StoredObject['metadata'] & { ownerReferences?: OwnerReference[] };
  spec?: {
    nodeName?: string;
    initContainers?: PodContainer[];
    // The parts the endpoints controllers read: named ports and the headless-Service DNS name.
    containers?: PodContainer[];
    hostname?: string;
    subdomain?: string;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: (ContainerStatus & { name?: string })[];
  };
};

/** metav1.GetControllerOf: the owner reference with controller: true. */
export function controllerOf(o: StoredObject): OwnerReference | undefined {
  const refs = o.metadata.ownerReferences as OwnerReference[] | undefined;
  return Array.isArray(refs) ? refs.find((r) => r.controller === true) : undefined;
}

/** controller.IsPodActive (pkg/controller/controller_utils.go). */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

/** podutil.IsPodReady. */
export function isPodReady(p: Pod): boolean {
  return readyCondition(p)?.status === 'True';
}

export function readyCondition(p: Pod): PodCondition | undefined {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

/**
 * podutil.IsPodAvailable: ready, and ready for at least minReadySeconds (by the Ready
 * condition's lastTransitionTime).
 */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(p)) return false;
  if (minReadySeconds === 0) return true;
  const since = Date.parse(readyCondition(p)?.lastTransitionTime ?? '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}
