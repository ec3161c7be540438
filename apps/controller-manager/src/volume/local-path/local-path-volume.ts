import { join } from 'node:path';

import { type StoredObject } from '@app/event-store';

import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_IS_DEFAULT_CLASS,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  annotation,
  claimClass,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
} from '../volume-types.js';

/** k3s' local-path-provisioner, as Wake bundles it (github.com/rancher/local-path-provisioner). */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';
export const DEFAULT_LOCAL_PATH_BASE_DIR = '/var/lib/wake/local-path-provisioner';
/** The node label the volume's node affinity names (local-path's KeyNode). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The StorageClass made at start when absent: the cluster's default, binding on first use. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_IS_DEFAULT_CLASS]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/**
 * shouldProvision (sig-storage-lib-external-provisioner controller.go): an unbound, living
 * claim our provisioner is asked for (the PV controller's storage-provisioner annotation) whose
 * class is ours, and, as its class binds WaitForFirstConsumer, whose node is chosen.
 */
export function shouldProvision(claim: PersistentVolumeClaim, sc: StorageClass | undefined): boolean {
  if (claim.spec?.volumeName) return false;
  if (claim.metadata.deletionTimestamp) return false;
  const asked = annotation(claim, ANN_STORAGE_PROVISIONER) ?? annotation(claim, ANN_BETA_STORAGE_PROVISIONER);
  if (asked !== LOCAL_PATH_PROVISIONER) return false;
  if (sc?.provisioner !== LOCAL_PATH_PROVISIONER) return false;
  if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !annotation(claim, ANN_SELECTED_NODE)) return false;
  return true;
}

/** The volume's name, as the external-provisioner library names it: `pvc-<claim uid>`. */
export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid ?? ''}`;
}

/**
 * local-path's Provision: a hostPath volume (DirectoryOrCreate; the node agent makes the
 * directory when it first mounts it) at `<base>/<pv>_<namespace>_<claim>` on the selected
 * node, pinned there by node affinity, of the requested size and the claim's access modes and
 * volume mode, with the class's reclaim policy and mount options, pre-bound to the claim.
 */
export function localPathVolume(
  claim: PersistentVolumeClaim,
  sc: StorageClass,
  node: StoredObject | undefined,
  nodeName: string,
  baseDir: string,
): PersistentVolume {
  const name = provisionedVolumeName(claim);
  const { namespace = '', name: claimName = '' } = claim.metadata;
  const hostname =
    (node?.metadata.labels as Record<string, string> | undefined)?.[HOSTNAME_LABEL] ?? nodeName;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: {
        [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER,
        'local.path.provisioner/selected-node': nodeName,
      },
    },
    spec: {
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '0' },
      storageClassName: claimClass(claim),
      ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      hostPath: { path: join(baseDir, `${name}_${namespace}_${claimName}`), type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] },
          ],
        },
      },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace,
        name: claimName,
        uid: claim.metadata.uid,
        resourceVersion: claim.metadata.resourceVersion,
      },
    },
  };
}
