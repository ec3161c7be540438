import { describe, expect, it } from '@jest/globals';

import { type PersistentVolumeClaim } from '../volume-types.js';
import {
  localPathStorageClass,
  localPathVolume,
  LOCAL_PATH_PROVISIONER,
  shouldProvision,
} from './local-path-volume.js';

const claim = (
  annotations: Record<string, string> = {},
  spec: PersistentVolumeClaim['spec'] = {},
): PersistentVolumeClaim => ({
  metadata: { name: 'data-web-0', namespace: 'shop', uid: 'u-1', resourceVersion: '42', annotations },
  spec: {
    storageClassName: 'local-path',
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '2Gi' } },
    ...spec,
  },
});
const asked = { 'volume.kubernetes.io/storage-provisioner': LOCAL_PATH_PROVISIONER };
const onNode = { ...asked, 'volume.kubernetes.io/selected-node': 'node-1' };

describe('local-path provisioner', () => {
  const sc = localPathStorageClass();

  it('has the class k3s installs: default, WaitForFirstConsumer, Delete', () => {
    expect(sc).toMatchObject({
      metadata: {
        name: 'local-path',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  });

  it('provisions only claims handed to it, of its class, once their node is chosen', () => {
    expect(shouldProvision(claim(onNode), sc)).toBe(true);
    expect(shouldProvision(claim(asked), sc)).toBe(false);
    expect(
      shouldProvision(claim({ ...onNode, 'volume.kubernetes.io/storage-provisioner': 'other' }), sc),
    ).toBe(false);
    expect(shouldProvision(claim(onNode, { volumeName: 'pv-x' }), sc)).toBe(false);
    expect(shouldProvision(claim(onNode), { ...sc, provisioner: 'other' })).toBe(false);
    expect(shouldProvision(claim(onNode), undefined)).toBe(false);
    const beta = { 'volume.beta.kubernetes.io/storage-provisioner': LOCAL_PATH_PROVISIONER };
    expect(shouldProvision(claim(beta), { ...sc, volumeBindingMode: 'Immediate' })).toBe(true);
  });

  it("makes a hostPath volume on the claim's node, pre-bound to it", () => {
    const node = { metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'host-1' } } };
    const pv = localPathVolume(claim(onNode), sc, node, 'node-1', '/data/lp');
    expect(pv.metadata).toMatchObject({
      name: 'pvc-u-1',
      annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' },
    });
    expect(pv.spec).toEqual({
      persistentVolumeReclaimPolicy: 'Delete',
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      capacity: { storage: '2Gi' },
      storageClassName: 'local-path',
      hostPath: { path: '/data/lp/pvc-u-1_shop_data-web-0', type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['host-1'] }] },
          ],
        },
      },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: 'shop',
        name: 'data-web-0',
        uid: 'u-1',
        resourceVersion: '42',
      },
    });
  });

  it("uses the node name when the node has no hostname label, and the class's reclaim policy", () => {
    const pv = localPathVolume(claim(onNode), { ...sc, reclaimPolicy: 'Retain' }, undefined, 'node-1', '/b');
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0].matchExpressions?.[0].values).toEqual([
      'node-1',
    ]);
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe('Retain');
  });
});
