import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Informer } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';
import { type TestWatch, watchForTest } from '@app/testing/test-watch.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { type ControllerRevision } from '../src/history/controller-revision.js';
import { type StatefulPod } from '../src/statefulset/identity.js';
import { type PersistentVolumeClaim, type StatefulSet } from '../src/statefulset/statefulset-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const HASH = 'controller-revision-hash';

const statefulSet = (name: string, replicas: number, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name },
  spec: {
    replicas,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox:1' }] },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
    ...spec,
  },
});

/**
 * The StatefulSet controller through the real API server, log and bus, with the real
 * scheduler and simulated nodes in this process (their pods go Running and Ready by
 * themselves); StatefulSets are applied, scaled, updated and rolled back with the real kubectl.
 * An independent pod watch records, per namespace, the order pods were created, turned
 * Ready, were marked for deletion and were removed.
 */
describe('StatefulSet controller through the real API server, scheduler and simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let watch: TestWatch<StatefulPod> | undefined;
  let podWatch: Informer<StatefulPod> | undefined;
  let ns = '';
  /** What happened to the current namespace's pods, in order: "created web-0", "ready web-0", "deleting web-2", "deleted web-2". */
  let timeline: string[] = [];

  const setPath = (name = '') => `/apis/apps/v1/namespaces/${ns}/statefulsets${name ? `/${name}` : ''}`;
  const getSet = (name: string) => cluster.ok<StatefulSet>('GET', setPath(name));
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(33, ['-n', ns, ...args], { input, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const apply = (o: unknown) => kubectl(['apply', '-f', '-'], JSON.stringify(o));
  const fresh = async (name: string) => {
    ns = name;
    timeline = [];
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const ready = (p: StatefulPod | undefined) =>
    !!p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const livePods = () =>
    podWatch!.cache
      .byIndex('namespace', ns)
      .filter((p) => !p.metadata.deletionTimestamp)
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const podNames = () => livePods().map((p) => p.metadata.name);
  const claims = async () =>
    (
      await cluster.ok<{ items: PersistentVolumeClaim[] }>(
        'GET',
        `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      )
    ).items;
  const revisions = async () =>
    (
      await cluster.ok<{ items: ControllerRevision[] }>(
        'GET',
        `/apis/apps/v1/namespaces/${ns}/controllerrevisions`,
      )
    ).items;
  const events = async (reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.reason === reason,
    );
  /** Waits until the set's status shows `n` pods Running and Ready and the last spec observed. */
  const settled = (name: string, n: number, extra: (s: StatefulSet) => boolean = () => true) =>
    waitFor(
      `${name} settled at ${n}`,
      async () => {
        const s = await getSet(name);
        const st = s.status;
        return st?.observedGeneration === s.metadata.generation &&
          st?.replicas === n &&
          st?.readyReplicas === n &&
          livePods().filter(ready).length === n &&
          livePods().length === n &&
          extra(s)
          ? s
          : undefined;
      },
      { timeoutMs: 90_000 },
    );
  /** The position of `entry` in the timeline at or after `from`; fails when it is not there. */
  const at = (entry: string, from = 0) => {
    const i = timeline.indexOf(entry, from);
    if (i < 0) throw new Error(`"${entry}" not in the timeline after ${from}: ${timeline.join(', ')}`);
    return i;
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster, {
      nodes: 3,
      controllerManager: {
        // The claims bind as in a real cluster: the scheduler's VolumeBinding waits for them, and
        // the local-path provisioner (the default StorageClass) makes their volumes.
        controllers: [
          'statefulset',
          'garbage-collector',
          'persistentvolume-binder',
          'local-path-provisioner',
        ],
        backoffMs: [50, 1000],
      },
    });
    // The default class must exist before the first claim, or admission leaves the claim classless.
    await waitFor('the local-path StorageClass', async () =>
      (await cluster.api('GET', '/apis/storage.k8s.io/v1/storageclasses/local-path')).status === 200
        ? true
        : undefined,
    );
    watch = await watchForTest<StatefulPod>(cluster, { group: '', version: 'v1', plural: 'pods' }, (c) => {
      const pod = c.object;
      if (pod.metadata.namespace !== ns) return;
      const name = pod.metadata.name ?? '';
      if (c.type === 'added') timeline.push(`created ${name}`);
      if (c.type === 'deleted') timeline.push(`deleted ${name}`);
      if (c.type !== 'updated') return;
      if (!ready(c.old) && ready(pod)) timeline.push(`ready ${name}`);
      if (!c.old.metadata.deletionTimestamp && pod.metadata.deletionTimestamp)
        timeline.push(`deleting ${name}`);
    });
    podWatch = watch.informer;
  });
  afterAll(async () => {
    await Promise.allSettled([watch?.close()]);
    await plane?.close();
    await cluster?.close();
  });

  it('kubectl apply: a set of 3 comes up in order with its claims, stable names and hostnames; it scales down in reverse order keeping the claims and back up reusing them', async () => {
    await fresh('ordered');
    await apply(statefulSet('web', 3));
    const up = await settled('web', 3);
    // OrderedReady: web-(i+1) is created only once web-i is Running and Ready.
    expect(at('ready web-0')).toBeLessThan(at('created web-1'));
    expect(at('ready web-1')).toBeLessThan(at('created web-2'));
    expect(podNames()).toEqual(['web-0', 'web-1', 'web-2']);

    const revision = up.status?.updateRevision;
    expect(revision).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(up.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: revision,
      collisionCount: 0,
    });
    for (const [i, pod] of livePods().entries()) {
      expect(pod.spec).toMatchObject({ hostname: `web-${i}`, subdomain: 'web' });
      expect(pod.metadata.labels).toEqual({
        app: 'web',
        'statefulset.kubernetes.io/pod-name': `web-${i}`,
        'apps.kubernetes.io/pod-index': String(i),
        [HASH]: revision,
      });
      expect(pod.spec?.volumes).toContainEqual({
        name: 'data',
        persistentVolumeClaim: { claimName: `data-web-${i}`, readOnly: false },
      });
      expect(pod.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'StatefulSet', name: 'web', uid: up.metadata.uid, controller: true }),
      ]);
    }
    const firstClaims = await claims();
    expect(firstClaims.map((c) => c.metadata.name).sort()).toEqual([
      'data-web-0',
      'data-web-1',
      'data-web-2',
    ]);
    for (const c of firstClaims) {
      expect(c.metadata.labels).toEqual({ app: 'web' });
      // Retain/Retain: the claims belong to no one, so nothing deletes them.
      expect(c.metadata.ownerReferences).toBeUndefined();
      // Bound, by the local-path provisioner, to a volume on the node its pod was placed on.
      const claim = c as PersistentVolumeClaim & {
        spec: { volumeName?: string };
        status?: { phase?: string };
      };
      expect(claim.status?.phase).toBe('Bound');
      const pv = await cluster.ok<{
        spec: {
          nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } };
        };
      }>('GET', `/api/v1/persistentvolumes/${claim.spec.volumeName}`);
      const podName = (c.metadata.name ?? '').replace(/^data-/, '');
      const node = livePods().find((p) => p.metadata.name === podName)?.spec?.nodeName;
      expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([node]);
    }
    const [rev] = await revisions();
    expect(rev).toMatchObject({ metadata: { name: revision }, revision: 1 });

    // web-0's creation names as its cause the set version reconciled: its creation.
    const store = cluster.server.app.get(ClusterConnections).store;
    const [created] = await store.history({
      group: 'apps',
      resource: 'statefulsets',
      namespace: ns,
      name: 'web',
    });
    const [pod0] = await store.history({ group: '', resource: 'pods', namespace: ns, name: 'web-0' });
    expect(pod0.event.verb).toBe('create');
    expect(pod0.event.cause).toBe(Number(created.event.seq));

    const messages = await waitFor('SuccessfulCreate events', async () => {
      const m = (await events('SuccessfulCreate')).map((e) => e.message);
      return m.length >= 6 ? m : undefined;
    });
    expect(messages).toEqual(
      expect.arrayContaining([
        'create Claim data-web-0 Pod web-0 in StatefulSet web success',
        'create Pod web-0 in StatefulSet web successful',
        'create Pod web-2 in StatefulSet web successful',
      ]),
    );
    expect(await kubectl(['get', 'statefulset', 'web'])).toMatch(/^NAME\s+READY\s+AGE\nweb\s+3\/3\s+/);
    expect(await kubectl(['get', 'controllerrevisions'])).toMatch(
      new RegExp(`${revision}\\s+statefulset.apps/web\\s+1\\s+`),
    );
    const described = await kubectl(['describe', 'statefulset', 'web']);
    expect(described).toMatch(
      /Normal\s+SuccessfulCreate\s+.*statefulset-controller\s+create Pod web-1 in StatefulSet web successful/,
    );

    // Scale to 1: web-2 goes, and only once it is gone does web-1 go; web-0 stays.
    timeline = [];
    await kubectl(['scale', 'statefulset', 'web', '--replicas=1']);
    await settled('web', 1);
    expect(at('deleting web-2')).toBeLessThan(at('deleted web-2'));
    expect(at('deleted web-2')).toBeLessThan(at('deleting web-1'));
    expect(timeline).not.toContain('deleting web-0');
    expect((await claims()).map((c) => c.metadata.uid).sort()).toEqual(
      firstClaims.map((c) => c.metadata.uid).sort(),
    );
    expect(await events('SuccessfulDelete')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ message: 'delete Pod web-2 in StatefulSet web successful' }),
      ]),
    );

    // Back to 3: the same names, in order again, on the same claims.
    timeline = [];
    await kubectl(['scale', 'statefulset', 'web', '--replicas=3']);
    await settled('web', 3);
    expect(at('ready web-1')).toBeLessThan(at('created web-2'));
    expect(podNames()).toEqual(['web-0', 'web-1', 'web-2']);
    expect((await claims()).map((c) => c.metadata.uid).sort()).toEqual(
      firstClaims.map((c) => c.metadata.uid).sort(),
    );
  });

  it('a Failed pod is deleted and recreated under its name, on its claim', async () => {
    await fresh('failed');
    await apply(statefulSet('web', 2));
    await settled('web', 2);
    const before = livePods()[1];
    const path = `/api/v1/namespaces/${ns}/pods/web-1`;
    await cluster.ok('PUT', `${path}/status`, { ...before, status: { ...before.status, phase: 'Failed' } });
    const replaced = await waitFor('web-1 replaced and Ready', async () => {
      const p = livePods().find((x) => x.metadata.name === 'web-1');
      return p && p.metadata.uid !== before.metadata.uid && ready(p) ? p : undefined;
    });
    // A terminal pod is deleted at once (no grace period); only then is its successor created.
    const gone = at('deleted web-1');
    expect(at('created web-1', gone)).toBeGreaterThan(gone);
    expect(replaced.spec?.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'data-web-1', readOnly: false },
    });
    expect((await claims()).map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1']);
    await waitFor('its SuccessfulDelete event', async () =>
      (await events('SuccessfulDelete')).some(
        (e) => e.message === 'delete Pod web-1 in StatefulSet web successful',
      )
        ? true
        : undefined,
    );
  });

  it('persistentVolumeClaimRetentionPolicy Delete: a scaled-away claim goes with its pod, the rest with the set', async () => {
    await fresh('retention');
    const policy = { whenScaled: 'Delete', whenDeleted: 'Delete' };
    await apply(statefulSet('web', 2, { persistentVolumeClaimRetentionPolicy: policy }));
    const set = await settled('web', 2);
    const owners = (c: PersistentVolumeClaim | undefined) =>
      (c?.metadata.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}`);
    const claim = async (name: string) => (await claims()).find((c) => c.metadata.name === name);
    await waitFor('claims owned by the set', async () =>
      (await claims()).every((c) => owners(c).join() === 'StatefulSet/web') ? true : undefined,
    );
    expect((await claim('data-web-0'))?.metadata.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid },
    ]);

    await kubectl(['scale', 'statefulset', 'web', '--replicas=1']);
    await settled('web', 1);
    await waitFor('data-web-1 deleted with web-1', async () =>
      (await claim('data-web-1')) ? undefined : true,
    );
    expect(owners(await claim('data-web-0'))).toEqual(['StatefulSet/web']);

    await kubectl(['delete', 'statefulset', 'web']);
    await waitFor('data-web-0 deleted with the set', async () =>
      (await claims()).length === 0 ? true : undefined,
    );
  });

  it('adopts an orphan named after it, ignores a matching pod that is not, and keeps revisionHistoryLimit old revisions', async () => {
    await fresh('adopt');
    // A pod's spec is fixed once created (ValidatePodUpdate), so adoption can only give the orphan
    // its labels and owner: it has the identity and storage a pod of the set would have (as
    // upstream, whose controller would otherwise fail to update it again and again).
    const orphan = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        hostname: name,
        subdomain: 'web',
        containers: [{ name: 'c', image: 'busybox:1' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } }],
      },
    });
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name: 'data-web-0', labels: { app: 'web' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const web0 = await cluster.ok<StatefulPod>('POST', `/api/v1/namespaces/${ns}/pods`, orphan('web-0'));
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/pods`, orphan('stray-0'));
    await apply(statefulSet('web', 1, { revisionHistoryLimit: 1 }));
    const set = await getSet('web');
    // The adopted pod gets the set as controller and its identity; lacking the revision's label,
    // the rolling update then replaces it.
    const store = cluster.server.app.get(ClusterConnections).store;
    await waitFor('web-0 adopted', async () => {
      const versions = await store.history({ group: '', resource: 'pods', namespace: ns, name: 'web-0' });
      return versions.some(
        (v) =>
          (v.event.object as StatefulPod | undefined)?.metadata.uid === web0.metadata.uid &&
          (v.event.object as StatefulPod | undefined)?.metadata.ownerReferences?.[0]?.uid ===
            set.metadata.uid,
      )
        ? true
        : undefined;
    });
    // The sync that adopted web-0 looked at stray-0 too: not named after the set, it stays an orphan.
    const stray = await cluster.ok<StatefulPod>('GET', `/api/v1/namespaces/${ns}/pods/stray-0`);
    expect(stray.metadata.ownerReferences).toBeUndefined();
    await kubectl(['delete', 'pod', 'stray-0', '--grace-period=0', '--force']);
    await settled('web', 1, (s) => s.status?.updatedReplicas === 1);

    for (const image of ['busybox:2', 'busybox:3']) {
      await kubectl(['set', 'image', 'statefulset/web', `c=${image}`]);
      await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=90s']);
    }
    const last = await settled('web', 1, (s) => s.status?.currentRevision === s.status?.updateRevision);
    // Revision 3 is live; of the history (1 and 2) only the newest is kept.
    const revs = await waitFor('history truncated', async () => {
      const r = await revisions();
      return r.length === 2 ? r : undefined;
    });
    expect(revs.map((r) => r.revision).sort()).toEqual([2, 3]);
    expect(revs.find((r) => r.revision === 3)?.metadata.name).toBe(last.status?.updateRevision);
  });

  it('Parallel creates every pod at once, without waiting for readiness', async () => {
    await fresh('parallel');
    await apply(statefulSet('db', 3, { podManagementPolicy: 'Parallel' }));
    await settled('db', 3);
    const firstReady = timeline.findIndex((e) => e.startsWith('ready '));
    for (const name of ['db-0', 'db-1', 'db-2']) expect(at(`created ${name}`)).toBeLessThan(firstReady);
    expect((await claims()).map((c) => c.metadata.name).sort()).toEqual([
      'data-db-0',
      'data-db-1',
      'data-db-2',
    ]);
  });

  it('kubectl set image rolls from the highest ordinal down, one healthy pod at a time; rollout status, history and undo work through ControllerRevisions', async () => {
    await fresh('rolling');
    await apply(statefulSet('web', 3));
    const before = await settled('web', 3);
    const oldRevision = before.status?.updateRevision;

    timeline = [];
    await kubectl(['set', 'image', 'statefulset/web', 'c=busybox:2']);
    const status = await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=90s']);
    expect(status).toContain('partitioned roll out complete: 3 new pods have been updated...');
    const after = await settled('web', 3, (s) => s.status?.currentRevision === s.status?.updateRevision);
    const newRevision = after.status?.updateRevision;
    expect(newRevision).not.toBe(oldRevision);
    // web-2, then web-1 once the new web-2 is Ready, then web-0 once the new web-1 is.
    const d2 = at('deleting web-2');
    const r2 = at('ready web-2', d2);
    const d1 = at('deleting web-1');
    expect(d1).toBeGreaterThan(r2);
    const r1 = at('ready web-1', d1);
    expect(at('deleting web-0')).toBeGreaterThan(r1);
    expect(after.status).toMatchObject({
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: newRevision,
    });
    for (const pod of livePods()) {
      expect(pod.metadata.labels?.[HASH]).toBe(newRevision);
      expect((pod.spec?.containers as { image: string }[])[0].image).toBe('busybox:2');
    }

    const history = await kubectl(['rollout', 'history', 'statefulset/web']);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    expect(await kubectl(['rollout', 'history', 'statefulset/web', '--revision=1'])).toContain('busybox:1');

    expect(await kubectl(['rollout', 'undo', 'statefulset/web'])).toContain(
      'statefulset.apps/web rolled back',
    );
    await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=90s']);
    const undone = await settled(
      'web',
      3,
      (s) => s.status?.updateRevision === oldRevision && s.status?.currentRevision === oldRevision,
    );
    expect(undone.status?.updatedReplicas).toBe(3);
    for (const pod of livePods()) {
      expect(pod.metadata.labels?.[HASH]).toBe(oldRevision);
      expect((pod.spec?.containers as { image: string }[])[0].image).toBe('busybox:1');
    }
    // The rollback raised the old revision's number instead of making a twin of it.
    const revs = await revisions();
    expect(revs.map((r) => [r.metadata.name, r.revision]).sort()).toEqual(
      [
        [oldRevision, 3],
        [newRevision, 2],
      ].sort(),
    );
    expect(await kubectl(['rollout', 'history', 'statefulset/web'])).toMatch(/\n2\s+<none>\n3\s+<none>/);
  });

  it('a partition keeps the ordinals below it on the current revision', async () => {
    await fresh('partition');
    await apply(
      statefulSet('web', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }),
    );
    const before = await settled('web', 3);
    await kubectl(['set', 'image', 'statefulset/web', 'c=busybox:2']);
    expect(await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=90s'])).toContain(
      'partitioned roll out complete: 1 new pods have been updated...',
    );
    const after = await settled('web', 3, (s) => s.status?.updatedReplicas === 1);
    expect(after.status).toMatchObject({
      currentRevision: before.status?.currentRevision,
      currentReplicas: 2,
      updatedReplicas: 1,
    });
    const image = (p: StatefulPod) => (p.spec?.containers as { image: string }[])[0].image;
    expect(livePods().map(image)).toEqual(['busybox:1', 'busybox:1', 'busybox:2']);
    expect(livePods()[2].metadata.labels?.[HASH]).toBe(after.status?.updateRevision);

    // Partition 0: the rest follow, and the update revision becomes the current one.
    await kubectl([
      'patch',
      'statefulset',
      'web',
      '-p',
      '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
    ]);
    const done = await settled('web', 3, (s) => s.status?.currentRevision === s.status?.updateRevision);
    expect(done.status).toMatchObject({ updatedReplicas: 3, currentRevision: after.status?.updateRevision });
    expect(livePods().map(image)).toEqual(['busybox:2', 'busybox:2', 'busybox:2']);
  });

  it('OnDelete replaces a pod with the update revision only when it is deleted', async () => {
    await fresh('ondelete');
    await apply(statefulSet('web', 3, { updateStrategy: { type: 'OnDelete' } }));
    const before = await settled('web', 3);
    const oldRevision = before.status?.currentRevision;
    await kubectl(['set', 'image', 'statefulset/web', 'c=busybox:2']);
    const updated = await settled('web', 3, (s) => s.status?.updateRevision !== oldRevision);
    expect(updated.status).toMatchObject({
      currentRevision: oldRevision,
      currentReplicas: 3,
      updatedReplicas: 0,
    });
    expect(livePods().map((p) => p.metadata.labels?.[HASH])).toEqual([oldRevision, oldRevision, oldRevision]);
    const r = await cluster.kubectl(33, ['-n', ns, 'rollout', 'status', 'statefulset/web']);
    expect(r.stderr).toContain('rollout status is only available for RollingUpdate strategy type');

    await kubectl(['delete', 'pod', 'web-1']);
    const after = await settled('web', 3, (s) => s.status?.updatedReplicas === 1);
    const newRevision = after.status?.updateRevision;
    expect(livePods().map((p) => p.metadata.labels?.[HASH])).toEqual([oldRevision, newRevision, oldRevision]);
    expect(after.status).toMatchObject({
      currentReplicas: 2,
      updatedReplicas: 1,
      currentRevision: oldRevision,
    });
  });
});
