import { describe, expect, it } from '@jest/globals';

import { podInfo } from '../pod-info.js';
import { filterReasons, makeNode, makePod, snapshotOf } from '../test-fixtures.js';
import { CycleState, type KubeObject } from '../types.js';
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_UNBOUND_IMMEDIATE,
  VolumeBinding,
  type VolumeLister,
} from './volume-binding.js';

const claim = (
  name: string,
  o: { volumeName?: string; class?: string; selectedNode?: string; uid?: string } = {},
) => ({
  metadata: {
    name,
    namespace: 'default',
    uid: o.uid ?? `uid-${name}`,
    annotations: {
      ...(o.selectedNode ? { 'volume.kubernetes.io/selected-node': o.selectedNode } : {}),
      ...(o.volumeName ? { 'pv.kubernetes.io/bind-completed': 'yes' } : {}),
    },
  },
  spec: { volumeName: o.volumeName, storageClassName: o.class },
});
const volume = (name: string, hostname?: string, claimUid?: string) => ({
  metadata: { name },
  spec: {
    claimRef: claimUid ? { uid: claimUid } : undefined,
    nodeAffinity: hostname
      ? {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] },
            ],
          },
        }
      : undefined,
  },
});
const classes: Record<string, KubeObject> = {
  wffc: {
    metadata: { name: 'wffc' },
    provisioner: 'rancher.io/local-path',
    volumeBindingMode: 'WaitForFirstConsumer',
  },
  zoned: {
    metadata: { name: 'zoned' },
    provisioner: 'example.com/p',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['z1'] }] }],
  },
  static: {
    metadata: { name: 'static' },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'WaitForFirstConsumer',
  },
  immediate: {
    metadata: { name: 'immediate' },
    provisioner: 'example.com/p',
    volumeBindingMode: 'Immediate',
  },
};

function lister(claims: KubeObject[], volumes: KubeObject[]): VolumeLister {
  return {
    claim: (_ns, n) => claims.find((c) => c.metadata.name === n),
    volume: (n) => volumes.find((v) => v.metadata.name === n),
    storageClass: (n) => classes[n],
  };
}
const usingClaims = (...names: string[]) =>
  makePod('p', {
    volumes: names.map((n) => ({ name: n, persistentVolumeClaim: { claimName: n } })),
  } as never);

describe('VolumeBinding', () => {
  const snapshot = snapshotOf(
    [makeNode('a', { labels: { 'kubernetes.io/hostname': 'a', zone: 'z1' } })],
    [makeNode('b', { labels: { 'kubernetes.io/hostname': 'b', zone: 'z2' } })],
  );
  const preFilter = (plugin: VolumeBinding, pod: KubeObject) =>
    plugin.preFilter(new CycleState(), podInfo(pod));

  it('skips pods without claims', () => {
    expect(preFilter(new VolumeBinding(lister([], [])), makePod('p'))).toBe('Skip');
  });

  it('rejects a pod whose claim is missing, being deleted, or unbound in an Immediate class', () => {
    expect(preFilter(new VolumeBinding(lister([], [])), usingClaims('x'))).toEqual({
      code: 'UnschedulableAndUnresolvable',
      reasons: ['persistentvolumeclaim "x" not found'],
    });
    const deleting = {
      ...claim('x'),
      metadata: { ...claim('x').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' },
    };
    expect(preFilter(new VolumeBinding(lister([deleting], [])), usingClaims('x'))).toEqual({
      code: 'UnschedulableAndUnresolvable',
      reasons: ['persistentvolumeclaim "x" is being deleted'],
    });
    expect(
      preFilter(new VolumeBinding(lister([claim('x', { class: 'immediate' })], [])), usingClaims('x')),
    ).toEqual({
      code: 'UnschedulableAndUnresolvable',
      reasons: [ERR_UNBOUND_IMMEDIATE],
    });
  });

  it("keeps a bound claim's pod on the nodes its volume's node affinity allows", () => {
    const plugin = new VolumeBinding(lister([claim('x', { volumeName: 'pv' })], [volume('pv', 'b')]));
    expect(filterReasons(plugin, usingClaims('x'), snapshot)).toEqual({
      a: [ERR_REASON_NODE_CONFLICT],
      b: [],
    });
    const anywhere = new VolumeBinding(lister([claim('x', { volumeName: 'pv' })], [volume('pv')]));
    expect(filterReasons(anywhere, usingClaims('x'), snapshot)).toEqual({ a: [], b: [] });
  });

  it('lets an unbound WaitForFirstConsumer claim go wherever its provisioner serves, or to its selected node', () => {
    const any = new VolumeBinding(lister([claim('x', { class: 'wffc' })], []));
    expect(filterReasons(any, usingClaims('x'), snapshot)).toEqual({ a: [], b: [] });
    const zoned = new VolumeBinding(lister([claim('x', { class: 'zoned' })], []));
    expect(filterReasons(zoned, usingClaims('x'), snapshot)).toEqual({
      a: [],
      b: [ERR_REASON_BIND_CONFLICT],
    });
    const selected = new VolumeBinding(lister([claim('x', { class: 'wffc', selectedNode: 'b' })], []));
    expect(filterReasons(selected, usingClaims('x'), snapshot)).toEqual({
      a: [ERR_REASON_BIND_CONFLICT],
      b: [],
    });
    const staticOnly = new VolumeBinding(lister([claim('x', { class: 'static' })], []));
    expect(filterReasons(staticOnly, usingClaims('x'), snapshot)).toEqual({
      a: [ERR_REASON_BIND_CONFLICT],
      b: [ERR_REASON_BIND_CONFLICT],
    });
  });

  it('PreBind selects the node for unbound claims and waits until they are bound', async () => {
    const c = claim('x', { class: 'wffc' });
    const claims: KubeObject[] = [c];
    const volumes: KubeObject[] = [];
    const selected: string[] = [];
    const plugin = new VolumeBinding(lister(claims, volumes), {
      pollMs: 5,
      selectNode: async (cl, node) => {
        selected.push(`${cl.metadata.name}@${node}`);
        // The provisioner and binder, later: the claim bound to a volume claiming it.
        setTimeout(() => {
          claims[0] = claim('x', { class: 'wffc', volumeName: 'pvc-x', selectedNode: node });
          volumes.push(volume('pvc-x', node, c.metadata.uid));
        }, 20);
      },
    });
    await plugin.preBind(usingClaims('x'), 'b');
    expect(selected).toEqual(['x@b']);
  });

  it('PreBind gives up after the bind timeout', async () => {
    const plugin = new VolumeBinding(lister([claim('x', { class: 'wffc' })], []), {
      pollMs: 5,
      bindTimeoutMs: 30,
      selectNode: async () => {},
    });
    await expect(plugin.preBind(usingClaims('x'), 'a')).rejects.toThrow(/timed out/);
  });
});
