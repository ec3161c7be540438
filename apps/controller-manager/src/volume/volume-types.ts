import { type LabelSelectorObject, parseValue } from '@app/api';
import { type StoredObject } from '@app/event-store';

/**
 * PersistentVolume, PersistentVolumeClaim and StorageClass as the volume controllers read
 * them, and upstream's annotations and helpers (pkg/controller/volume/persistentvolume/util,
 * component-helpers/storage/volume).
 */

export const PVCS = { group: '', version: 'v1', plural: 'persistentvolumeclaims' };
export const PVS = { group: '', version: 'v1', plural: 'persistentvolumes' };
export const STORAGE_CLASSES = { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses' };

/** The claim's binding was completed by the controller (pv_controller.go AnnBindCompleted). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** The controller, not the user, made this side of the binding (AnnBoundByController). */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** Which provisioner made the volume (AnnDynamicallyProvisioned). */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** Which provisioner is to make a volume for the claim (AnnStorageProvisioner, AnnBetaStorageProvisioner). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** The node the scheduler chose for a WaitForFirstConsumer claim (AnnSelectedNode). */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** The class, in its pre-storageClassName spelling, which still wins (AnnBetaStorageClass). */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
/** The cluster's default class (storageutil.IsDefaultAnnotation, with its beta spelling). */
export const ANN_IS_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_IS_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** The provisioner name that means "static volumes only" (NotSupportedProvisioner). */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export interface ObjectReference {
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

export type PersistentVolume = StoredObject & {
  spec?: {
    capacity?: Record<string, string | number>;
    accessModes?: string[];
    claimRef?: ObjectReference | null;
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    volumeMode?: string;
    hostPath?: { path: string; type?: string };
    local?: { path: string };
    nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
    mountOptions?: string[];
  };
  status?: { phase?: string; message?: string; reason?: string; lastPhaseTransitionTime?: string };
};

export type PersistentVolumeClaim = StoredObject & {
  spec?: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string | number> };
    selector?: LabelSelectorObject | null;
    storageClassName?: string | null;
    volumeName?: string;
    volumeMode?: string;
  };
  status?: {
    phase?: string;
    accessModes?: string[];
    capacity?: Record<string, string | number>;
  };
};

export type StorageClass = StoredObject & {
  provisioner?: string;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  mountOptions?: string[];
  parameters?: Record<string, string>;
  allowedTopologies?: { matchLabelExpressions?: { key: string; values: string[] }[] }[];
};

export function annotation(o: StoredObject, key: string): string | undefined {
  return (o.metadata.annotations as Record<string, string> | undefined)?.[key];
}

export function hasAnnotation(o: StoredObject, key: string): boolean {
  return annotation(o, key) !== undefined;
}

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(claim: PersistentVolumeClaim): string {
  return annotation(claim, ANN_BETA_STORAGE_CLASS) ?? claim.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClass. */
export function volumeClass(volume: PersistentVolume): string {
  return annotation(volume, ANN_BETA_STORAGE_CLASS) ?? volume.spec?.storageClassName ?? '';
}

/** The claim's storage request in bytes (0 when it names none). */
export function requestedStorage(claim: PersistentVolumeClaim): number {
  const q = claim.spec?.resources?.requests?.storage;
  return q === undefined ? 0 : parseValue(q);
}

export function volumeCapacity(volume: PersistentVolume): number {
  const q = volume.spec?.capacity?.storage;
  return q === undefined ? 0 : parseValue(q);
}

/** IsVolumeBoundToClaim: the claimRef names the claim, and its uid if it has one. */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/** CheckVolumeModeMismatches: both default to Filesystem. */
export function volumeModeMismatches(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  return (claim.spec?.volumeMode ?? 'Filesystem') !== (volume.spec?.volumeMode ?? 'Filesystem');
}

/** CheckAccessModes: the volume offers every mode the claim asks for. */
export function volumeHasAccessModes(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  const offered = new Set(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** IsDelayBindingMode: the claim's class binds WaitForFirstConsumer (an unknown class binds at once). */
export function isDelayBindingMode(
  claim: PersistentVolumeClaim,
  classOf: (name: string) => StorageClass | undefined,
): boolean {
  const name = claimClass(claim);
  if (name === '') return false;
  return classOf(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** IsDelayBindingProvisioning: the scheduler has chosen the claim's node. */
export function isDelayBindingProvisioning(claim: PersistentVolumeClaim): boolean {
  return hasAnnotation(claim, ANN_SELECTED_NODE);
}

/** storageutil.IsDefaultAnnotation. */
export function isDefaultClass(sc: StorageClass): boolean {
  return (
    annotation(sc, ANN_IS_DEFAULT_CLASS) === 'true' || annotation(sc, ANN_BETA_IS_DEFAULT_CLASS) === 'true'
  );
}

/** The claims a pod's volumes use: persistentVolumeClaim sources and generic ephemeral volumes (`<pod>-<volume>`). */
export function podClaimNames(pod: StoredObject): string[] {
  const volumes =
    (
      pod.spec as {
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; ephemeral?: unknown }[];
      }
    )?.volumes ?? [];
  const names: string[] = [];
  for (const v of volumes) {
    if (v.persistentVolumeClaim) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata.name ?? ''}-${v.name}`);
  }
  return names;
}
