import { type LabelSelector, labelSelectorFromObject, type LabelSelectorObject } from '@app/api';
import { type InformerResource } from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type OwnerReference } from './pod-types.js';

export interface ReplicaCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

/** A ReplicaSet or a ReplicationController: the fields the controller reads. */
export type ReplicaOwner = StoredObject & {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: unknown;
    template?: { metadata?: StoredObject['metadata']; spec?: unknown };
  };
  status?: ReplicaStatus;
};

/**
 * The two kinds one controller logic serves, as upstream runs ReplicationControllers through
 * the ReplicaSet controller (pkg/controller/replication/replication_controller.go): they
 * differ in their resource, their kind and the shape of their selector.
 */
export interface ReplicaKind {
  /** The controller's name (upstream's `--controllers` names). */
  controller: 'replicaset' | 'replicationcontroller';
  /** The component its Events are reported by. */
  component: string;
  resource: InformerResource;
  apiVersion: string;
  kind: string;
  selector(o: ReplicaOwner): LabelSelector;
}

/** An invalid selector selects nothing (validation keeps them out; a stale object must not match all). */
export function safeSelector(s: LabelSelectorObject | undefined): LabelSelector {
  try {
    return labelSelectorFromObject(s);
  } catch {
    return { requirements: [], matchNothing: true };
  }
}

export const REPLICA_SET: ReplicaKind = {
  controller: 'replicaset',
  component: 'replicaset-controller',
  resource: { group: 'apps', version: 'v1', plural: 'replicasets' },
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  selector: (o) => safeSelector(o.spec?.selector as LabelSelectorObject | undefined),
};

export const REPLICATION_CONTROLLER: ReplicaKind = {
  controller: 'replicationcontroller',
  component: 'replication-controller',
  resource: { group: '', version: 'v1', plural: 'replicationcontrollers' },
  apiVersion: 'v1',
  kind: 'ReplicationController',
  // An RC's selector is a plain label map (defaulted from the template's labels).
  selector: (o) =>
    safeSelector({ matchLabels: (o.spec?.selector as Record<string, string> | undefined) ?? {} }),
};

/** What a controller claiming dependents needs of its own kind (a ReplicaKind, the Deployment's). */
export type ClaimingKind = Pick<ReplicaKind, 'resource' | 'apiVersion' | 'kind'>;

/** metav1.NewControllerRef. */
export function controllerRef(kind: ClaimingKind, owner: StoredObject): OwnerReference {
  return {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
