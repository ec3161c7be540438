/**
 * The Kubernetes shapes the container configurer reads beside the pod (api-types.ts has the
 * pod's own), from kubernetes-models' declarations; type-only, nothing is loaded at run time.
 */
export type { IConfigMap as ConfigMap } from 'kubernetes-models/v1/ConfigMap';
export type { ISecret as Secret } from 'kubernetes-models/v1/Secret';
export type { IService as Service } from 'kubernetes-models/v1/Service';
export type { IPersistentVolume as PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
export type { IPersistentVolumeClaim as PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
export type { IVolumeMount as VolumeMount } from 'kubernetes-models/v1/VolumeMount';
export type { IKeyToPath as KeyToPath } from 'kubernetes-models/v1/KeyToPath';
export type { IDownwardAPIVolumeFile as DownwardAPIVolumeFile } from 'kubernetes-models/v1/DownwardAPIVolumeFile';
export type { IObjectFieldSelector as ObjectFieldSelector } from 'kubernetes-models/v1/ObjectFieldSelector';
export type { IResourceFieldSelector as ResourceFieldSelector } from 'kubernetes-models/v1/ResourceFieldSelector';
export type { IResourceRequirements as ResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
export type { ITokenRequest as TokenRequest } from 'kubernetes-models/authentication.k8s.io/v1/TokenRequest';
