import { describe, expect, it } from '@jest/globals';

import {
  claimOwnerMatchesSetAndPod,
  claimOwnerRefsFor,
  getOrdinal,
  hasStaleOwnerRef,
  identityMatches,
  isHealthy,
  isMemberOf,
  isRunningAndAvailable,
  isRunningAndReady,
  newStatefulSetPod,
  newVersionedStatefulSetPod,
  parentNameAndOrdinal,
  persistentVolumeClaims,
  podInOrdinalRange,
  type StatefulPod,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './identity.js';
import { type PersistentVolumeClaim } from './statefulset-types.js';
import { newStatefulSet, runningAndReady, withStatus } from './test-objects.js';

// Upstream's stateful_set_utils_test.go, case by case.
describe('StatefulSet pod identity', () => {
  it('TestGetParentNameAndOrdinal: the name before the last dash and the number after it', () => {
    const set = newStatefulSet(3);
    const pod = newStatefulSetPod(set, 1);
    expect(parentNameAndOrdinal(pod)).toEqual({ parent: 'foo', ordinal: 1 });
    expect(isMemberOf(set, pod)).toBe(true);
    expect(parentNameAndOrdinal({ metadata: { name: '1-bar' } })).toEqual({ parent: '', ordinal: -1 });
    expect(isMemberOf(newStatefulSet(3, {}, 'bar'), pod)).toBe(false);
    expect(getOrdinal({ metadata: { name: 'foo-99999999999' } })).toBe(-1);
    expect(parentNameAndOrdinal({ metadata: { name: 'my-db-12' } })).toEqual({
      parent: 'my-db',
      ordinal: 12,
    });
  });

  it('TestIdentityMatches: a pod of another set, namespace or without its labels does not match', () => {
    const set = newStatefulSet(3);
    const pod = newStatefulSetPod(set, 1);
    expect(identityMatches(set, pod)).toBe(true);
    expect(identityMatches(set, { ...pod, metadata: { ...pod.metadata, name: 'bar-1' } })).toBe(false);
    expect(identityMatches(set, { ...pod, metadata: { ...pod.metadata, namespace: 'other' } })).toBe(false);
    const unlabelled = { ...pod, metadata: { ...pod.metadata, labels: { foo: 'bar' } } };
    expect(identityMatches(set, unlabelled)).toBe(false);
    // TestUpdateIdentity: updateIdentity restores it, without touching the cached pod.
    expect(identityMatches(set, updateIdentity(set, unlabelled))).toBe(true);
    expect(unlabelled.metadata.labels).toEqual({ foo: 'bar' });
  });

  it('TestStorageMatches / TestUpdateStorage: each claim template is a volume on its ordinal claim; other volumes are kept', () => {
    const set = newStatefulSet(3);
    const pod = newStatefulSetPod(set, 1);
    expect(storageMatches(set, pod)).toBe(true);
    expect(pod.spec?.volumes).toEqual([
      { name: 'datadir', persistentVolumeClaim: { claimName: 'datadir-foo-1', readOnly: false } },
      { name: 'home', hostPath: { path: '/tmp/home' } },
    ]);
    const wrongClaim: StatefulPod = {
      ...pod,
      spec: {
        ...pod.spec,
        volumes: [{ name: 'datadir', persistentVolumeClaim: { claimName: 'datadir-foo-2' } }],
      },
    };
    expect(storageMatches(set, wrongClaim)).toBe(false);
    expect(storageMatches(set, { ...pod, spec: { ...pod.spec, volumes: [] } })).toBe(false);
    const fixed = updateStorage(set, wrongClaim);
    expect(storageMatches(set, fixed)).toBe(true);
    expect(fixed.spec?.volumes).toHaveLength(1);
  });

  it('newStatefulSetPod: name, hostname and subdomain, identity labels, the template and the set as controller', () => {
    const set = newStatefulSet(3);
    const pod = newStatefulSetPod(set, 2);
    expect(pod.metadata).toMatchObject({
      name: 'foo-2',
      namespace: 'default',
      labels: {
        foo: 'bar',
        'statefulset.kubernetes.io/pod-name': 'foo-2',
        'apps.kubernetes.io/pod-index': '2',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: 'foo',
          uid: 'set-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(pod.spec).toMatchObject({
      hostname: 'foo-2',
      subdomain: 'governingsvc',
      containers: [{ name: 'nginx' }],
    });
    // The set's template is not shared with the pod.
    expect(set.spec?.template?.spec?.volumes).toHaveLength(1);
  });

  it('TestGetPersistentVolumeClaims: claims named <template>-<set>-<ordinal>, labelled with the selector', () => {
    const set = newStatefulSet(3);
    set.spec!.volumeClaimTemplates![0].metadata.labels = { tier: 'db' };
    const [{ template, claim }] = persistentVolumeClaims(set, newStatefulSetPod(set, 0));
    expect(template).toBe('datadir');
    expect(claim.metadata).toMatchObject({
      name: 'datadir-foo-0',
      namespace: 'default',
      labels: { tier: 'db', foo: 'bar' },
    });
    expect(claim.spec).toEqual({ resources: { requests: { storage: '1Gi' } } });
  });

  it('ordinals start at spec.ordinals.start', () => {
    const set = newStatefulSet(2, { ordinals: { start: 3 } });
    expect(podInOrdinalRange(newStatefulSetPod(set, 3), set)).toBe(true);
    expect(podInOrdinalRange(newStatefulSetPod(set, 4), set)).toBe(true);
    expect(podInOrdinalRange(newStatefulSetPod(set, 2), set)).toBe(false);
    expect(podInOrdinalRange(newStatefulSetPod(set, 5), set)).toBe(false);
  });

  it('newVersionedStatefulSetPod: ordinals below the partition come from the current revision', () => {
    const current = newStatefulSet(3, {
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
    });
    const update = {
      ...current,
      spec: {
        ...current.spec,
        template: {
          metadata: { labels: { foo: 'bar' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] },
        },
      },
    };
    const image = (p: StatefulPod) => (p.spec?.containers as { image: string }[])[0].image;
    const p1 = newVersionedStatefulSetPod(current, update, 'rev-1', 'rev-2', 1);
    const p2 = newVersionedStatefulSetPod(current, update, 'rev-1', 'rev-2', 2);
    expect([image(p1), p1.metadata.labels?.['controller-revision-hash']]).toEqual(['nginx', 'rev-1']);
    expect([image(p2), p2.metadata.labels?.['controller-revision-hash']]).toEqual(['nginx:2', 'rev-2']);
  });

  it('TestIsRunningAndReady / isHealthy / availability after minReadySeconds', () => {
    const pod = newStatefulSetPod(newStatefulSet(1), 0);
    expect(isRunningAndReady(pod)).toBe(false);
    expect(isRunningAndReady(withStatus(pod, 'Pending', true))).toBe(false);
    expect(isRunningAndReady(withStatus(pod, 'Running', false))).toBe(false);
    const ready = runningAndReady(pod);
    expect(isRunningAndReady(ready)).toBe(true);
    expect(isHealthy(ready)).toBe(true);
    expect(
      isHealthy({ ...ready, metadata: { ...ready.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    ).toBe(false);
    const readySince = Date.parse('2026-01-01T00:00:00Z');
    expect(isRunningAndAvailable(ready, 10, readySince + 5_000)).toBe(false);
    expect(isRunningAndAvailable(ready, 10, readySince + 10_000)).toBe(true);
  });
});

describe('PVC retention (TestClaimOwnerMatchesSetAndPod, TestUpdateClaimOwnerRefForSetAndPod)', () => {
  const claimWith = (...owners: string[]): PersistentVolumeClaim => ({
    metadata: {
      name: 'datadir-foo-1',
      ownerReferences: owners.map((uid) => ({
        apiVersion: 'v1',
        kind: uid === 'set-uid' ? 'StatefulSet' : 'Pod',
        name: 'x',
        uid,
      })),
    },
  });
  const cases: [string, string, boolean, string[]][] = [
    // whenScaled, whenDeleted, pod scaled down, the owners the claim should have
    ['Retain', 'Retain', false, []],
    ['Retain', 'Retain', true, []],
    ['Retain', 'Delete', false, ['set-uid']],
    ['Retain', 'Delete', true, ['set-uid']],
    ['Delete', 'Retain', false, []],
    ['Delete', 'Retain', true, ['pod-uid']],
    ['Delete', 'Delete', false, ['set-uid']],
    ['Delete', 'Delete', true, ['pod-uid']],
  ];
  it.each(cases)(
    'whenScaled %s, whenDeleted %s, scaled down %s: owned by %j',
    (whenScaled, whenDeleted, scaledDown, owners) => {
      const set = newStatefulSet(scaledDown ? 1 : 3, {
        persistentVolumeClaimRetentionPolicy: {
          whenScaled: whenScaled as 'Retain',
          whenDeleted: whenDeleted as 'Retain',
        },
      });
      const pod = withStatus(newStatefulSetPod(set, 1), 'Running', true, 'pod-uid');
      expect(claimOwnerMatchesSetAndPod(claimWith(...owners), set, pod)).toBe(true);
      const all = ['set-uid', 'pod-uid'];
      for (const wrong of [[], ['set-uid'], ['pod-uid'], all].filter((o) => o.join() !== owners.join())) {
        const claim = claimWith(...wrong);
        expect(claimOwnerMatchesSetAndPod(claim, set, pod)).toBe(false);
        const refs = claimOwnerRefsFor(claim, set, pod);
        expect(refs?.map((r) => r.uid).sort()).toEqual([...owners].sort());
        // Plain references: the garbage collector deletes the claim with its owner, no one controls it.
        expect(refs?.every((r) => r.controller === undefined)).toBe(true);
      }
      expect(claimOwnerRefsFor(claimWith(...owners), set, pod)).toBeUndefined();
    },
  );

  it('a claim that names an earlier pod of the same name is stale', () => {
    const pod = withStatus(newStatefulSetPod(newStatefulSet(3), 1), 'Running', true, 'new-uid');
    const claim: PersistentVolumeClaim = {
      metadata: {
        name: 'datadir-foo-1',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'foo-1', uid: 'old-uid' }],
      },
    };
    expect(hasStaleOwnerRef(claim, pod)).toBe(true);
    expect(hasStaleOwnerRef(claim, { ...pod, metadata: { ...pod.metadata, uid: 'old-uid' } })).toBe(false);
  });
});
