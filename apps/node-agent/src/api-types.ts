/**
 * The Kubernetes object shapes the node agent reads and writes, from kubernetes-models'
 * generated declarations (type-only: nothing of that package is loaded at run time).
 */
import type { StoredObject } from '@app/event-store';

export type { IPod as Pod } from 'kubernetes-models/v1/Pod';
export type { IPodSpec as PodSpec } from 'kubernetes-models/v1/PodSpec';
export type { IPodStatus as PodStatus } from 'kubernetes-models/v1/PodStatus';
export type { IPodCondition as PodCondition } from 'kubernetes-models/v1/PodCondition';
export type { IContainer as Container } from 'kubernetes-models/v1/Container';
export type { IEphemeralContainer as EphemeralContainer } from 'kubernetes-models/v1/EphemeralContainer';
export type { IContainerStatus as ContainerStatusApi } from 'kubernetes-models/v1/ContainerStatus';
export type { IContainerState as ContainerState } from 'kubernetes-models/v1/ContainerState';
export type { IProbe as Probe } from 'kubernetes-models/v1/Probe';
export type { IVolume as Volume } from 'kubernetes-models/v1/Volume';
export type { IEnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
export type { INode as Node } from 'kubernetes-models/v1/Node';
export type { INodeStatus as NodeStatus } from 'kubernetes-models/v1/NodeStatus';
export type { INodeCondition as NodeCondition } from 'kubernetes-models/v1/NodeCondition';

/** A model as the API client reads and writes it (metadata.name and the stored-object shape). */
export type ApiObject<T> = T & StoredObject;
