import { type LabelSelectorObject } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type OwnerReference } from '../owner-reference.js';
import { type ClaimingKind } from '../replicaset/replica-kind.js';

/** apps/v1 StatefulSetPodNameLabel: the pod's own name, so a Service can select one pod. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** apps/v1 PodIndexLabel: the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** apps/v1 ControllerRevisionHashLabelKey on pods: the revision the pod was made from. */
export const POD_REVISION_LABEL = 'controller-revision-hash';

export type RetentionPolicyType = 'Retain' | 'Delete';

export interface PodTemplate {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    [k: string]: unknown;
  };
  spec?: PodSpec;
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [source: string]: unknown;
}

export interface PodSpec {
  hostname?: string;
  subdomain?: string;
  volumes?: Volume[];
  [k: string]: unknown;
}

export interface PersistentVolumeClaim extends StoredObject {
  metadata: StoredObject['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec?: unknown;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: unknown[];
}

/** The parts of an apps/v1 StatefulSet the controller reads. */
export interface StatefulSet extends StoredObject {
  metadata: StoredObject['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    replicas?: number;
    selector?: LabelSelectorObject;
    template?: PodTemplate;
    volumeClaimTemplates?: PersistentVolumeClaim[];
    serviceName?: string;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number } };
    revisionHistoryLimit?: number;
    minReadySeconds?: number;
    persistentVolumeClaimRetentionPolicy?: {
      whenDeleted?: RetentionPolicyType;
      whenScaled?: RetentionPolicyType;
    };
    ordinals?: { start?: number };
  };
  status?: StatefulSetStatus;
}

export const STATEFUL_SET: ClaimingKind = {
  resource: { group: 'apps', version: 'v1', plural: 'statefulsets' },
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
};
export const PODS = { group: '', version: 'v1', plural: 'pods' };
export const CLAIMS = { group: '', version: 'v1', plural: 'persistentvolumeclaims' };
