import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { type Pod } from '../src/replicaset/pod-types.js';
import { type PersistentVolume, type PersistentVolumeClaim } from '../src/volume/volume-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const BASE_DIR = '/tmp/wake-test-local-path';

/**
 * The PersistentVolume binder, the local-path provisioner, DefaultStorageClass admission and
 * the scheduler's VolumeBinding through the real API server, log and bus: the controller
 * manager, the real scheduler and simulated nodes run in this process; claims and volumes are
 * read back through the real kubectl.
 */
describe('Volumes through the real API server, scheduler and simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let ns = '';

  const status = async (method: string, path: string) => (await cluster.api(method, path)).status;
  const pvcPath = (name = '') => `/api/v1/namespaces/${ns}/persistentvolumeclaims${name ? `/${name}` : ''}`;
  const pvPath = (name = '') => `/api/v1/persistentvolumes${name ? `/${name}` : ''}`;
  const podPath = (name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;
  const getPvc = (name: string) => cluster.ok<PersistentVolumeClaim>('GET', pvcPath(name));
  const getPv = (name: string) => cluster.ok<PersistentVolume>('GET', pvPath(name));
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const kubectlOk = async (args: string[]) => {
    const r = await cluster.kubectl(33, ['-n', ns, ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const events = async (name: string, reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  const pv = (name: string, size: string, o: { class?: string; policy?: string } = {}) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      storageClassName: o.class ?? 'manual',
      persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
      hostPath: { path: `/tmp/${name}` },
    },
  });
  const pvc = (name: string, size: string, storageClassName?: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: size } },
      ...(storageClassName === undefined ? {} : { storageClassName }),
    },
  });
  const pod = (name: string, claimName: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
    },
  });
  const phaseOf = async (path: string) =>
    (await cluster.ok<{ status?: { phase?: string } }>('GET', path)).status?.phase;
  const waitPhase = (what: string, path: string, phase: string) =>
    waitFor(`${what} ${phase}`, async () => ((await phaseOf(path)) === phase ? true : undefined));
  const scheduledNode = (name: string) =>
    waitFor(
      `pod ${name} scheduled`,
      async () => (await cluster.ok<Pod>('GET', podPath(name))).spec?.nodeName || undefined,
    );

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster, {
      nodes: 3,
      scheduler: { volumeBindTimeoutMs: 30_000 },
      controllerManager: {
        backoffMs: [50, 1000],
        pvResyncMs: 1000,
        localPathBaseDir: BASE_DIR,
      },
    });
  });
  afterAll(async () => {
    await plane?.close();
    await cluster?.close();
  });

  it('binds a static claim to the smallest volume that fits, both Bound, as kubectl shows', async () => {
    await fresh('static');
    for (const [name, size] of [
      ['static-1g', '1Gi'],
      ['static-5g', '5Gi'],
      ['static-10g', '10Gi'],
    ])
      await cluster.ok('POST', pvPath(), pv(name, size));
    await waitPhase('volume static-10g', pvPath('static-10g'), 'Available');
    await cluster.ok('POST', pvcPath(), pvc('data', '3Gi', 'manual'));
    await waitPhase('claim data', pvcPath('data'), 'Bound');
    const claim = await getPvc('data');
    expect(claim.spec?.volumeName).toBe('static-5g');
    expect(claim.metadata.annotations).toMatchObject({
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    });
    expect(claim.status).toMatchObject({ accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } });
    await waitPhase('volume static-5g', pvPath('static-5g'), 'Bound');
    const volume = await getPv('static-5g');
    expect(volume.spec?.claimRef).toMatchObject({
      kind: 'PersistentVolumeClaim',
      namespace: 'static',
      name: 'data',
      uid: claim.metadata.uid,
    });
    expect(volume.metadata.annotations).toMatchObject({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(await phaseOf(pvPath('static-1g'))).toBe('Available');
    expect(await phaseOf(pvPath('static-10g'))).toBe('Available');

    const out = await kubectlOk(['get', 'pvc,pv', '--no-headers']);
    expect(out).toMatch(/persistentvolumeclaim\/data\s+Bound\s+static-5g\s+5Gi\s+RWO\s+manual/);
    expect(out).toMatch(/persistentvolume\/static-5g\s+5Gi\s+RWO\s+Retain\s+Bound\s+static\/data\s+manual/);
    expect(out).toMatch(/persistentvolume\/static-10g\s+10Gi\s+RWO\s+Retain\s+Available\s+manual/);
  });

  it('keeps a Retain volume Released when its claim goes; a Delete volume without a deleter fails', async () => {
    await fresh('reclaim');
    await cluster.ok('POST', pvPath(), pv('retained', '1Gi', { class: 'keep' }));
    await cluster.ok('POST', pvPath(), pv('deleted', '1Gi', { class: 'drop', policy: 'Delete' }));
    await cluster.ok('POST', pvcPath(), pvc('keep', '1Gi', 'keep'));
    await cluster.ok('POST', pvcPath(), pvc('drop', '1Gi', 'drop'));
    await waitPhase('claim keep', pvcPath('keep'), 'Bound');
    await waitPhase('claim drop', pvcPath('drop'), 'Bound');
    await cluster.ok('DELETE', pvcPath('keep'));
    await cluster.ok('DELETE', pvcPath('drop'));
    await waitPhase('volume retained', pvPath('retained'), 'Released');
    expect((await getPv('retained')).spec?.claimRef).toMatchObject({ name: 'keep', namespace: 'reclaim' });
    await waitPhase('volume deleted', pvPath('deleted'), 'Failed');
    expect((await getPv('deleted')).status?.message).toBe(
      'error getting deleter volume plugin for volume "deleted": no deletable volume plugin matched',
    );
    // A Released volume is not offered to a new claim (it keeps its claimRef until an admin clears it).
    await cluster.ok('POST', pvcPath(), pvc('keep', '1Gi', 'keep'));
    await waitPhase('new claim keep', pvcPath('keep'), 'Pending');
    expect((await getPvc('keep')).spec?.volumeName).toBeUndefined();
  });

  it('gives a claim without class the default local-path class, and waits for its first consumer', async () => {
    await fresh('wffc');
    await waitFor('the local-path StorageClass', async () =>
      (await status('GET', '/apis/storage.k8s.io/v1/storageclasses/local-path')) === 200 ? true : undefined,
    );
    const sc = await cluster.ok<Record<string, unknown>>(
      'GET',
      '/apis/storage.k8s.io/v1/storageclasses/local-path',
    );
    expect(sc).toMatchObject({
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    });
    const created = await cluster.ok<PersistentVolumeClaim>('POST', pvcPath(), pvc('data', '2Gi'));
    expect(created.spec?.storageClassName).toBe('local-path');
    // "" is a choice: no class, so no default and no provisioning.
    const classless = await cluster.ok<PersistentVolumeClaim>('POST', pvcPath(), pvc('classless', '1Ti', ''));
    expect(classless.spec?.storageClassName).toBe('');
    const [noClass] = await waitFor('FailedBinding event', async () => {
      const e = await events('classless', 'FailedBinding');
      return e.length ? e : undefined;
    });
    expect(noClass.message).toBe(
      'no persistent volumes available for this claim and no storage class is set',
    );
    const [waiting] = await waitFor('WaitForFirstConsumer event', async () => {
      const e = await events('data', 'WaitForFirstConsumer');
      return e.length ? e : undefined;
    });
    expect(waiting.message).toBe('waiting for first consumer to be created before binding');
    expect(waiting.source.component).toBe('persistentvolume-controller');
    expect(await phaseOf(pvcPath('data'))).toBe('Pending');
    expect((await getPvc('data')).spec?.volumeName).toBeUndefined();

    // The first consumer: the scheduler picks its node, the provisioner makes the volume there.
    await cluster.ok('POST', podPath(), pod('first', 'data'));
    const node = await scheduledNode('first');
    const claim = await waitFor('claim data bound', async () => {
      const c = await getPvc('data');
      return c.status?.phase === 'Bound' ? c : undefined;
    });
    const volumeName = `pvc-${claim.metadata.uid}`;
    expect(claim.spec?.volumeName).toBe(volumeName);
    expect(claim.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': node,
      'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
      'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
    });
    const volume = await getPv(volumeName);
    expect(volume.metadata.annotations).toMatchObject({
      'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path',
    });
    expect(volume.spec).toMatchObject({
      capacity: { storage: '2Gi' },
      storageClassName: 'local-path',
      persistentVolumeReclaimPolicy: 'Delete',
      hostPath: { path: `${BASE_DIR}/${volumeName}_wffc_data`, type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
      claimRef: { name: 'data', namespace: 'wffc', uid: claim.metadata.uid },
    });
    expect((await events('data', 'ProvisioningSucceeded'))[0]?.message).toBe(
      `Successfully provisioned volume ${volumeName}`,
    );

    // Any later consumer follows the volume to its node.
    for (const name of ['second', 'third']) {
      await cluster.ok('POST', podPath(), pod(name, 'data'));
      expect(await scheduledNode(name)).toBe(node);
    }
    const out = await kubectlOk(['get', 'pvc', 'data', '--no-headers']);
    expect(out).toMatch(new RegExp(`^data\\s+Bound\\s+${volumeName}\\s+2Gi\\s+RWO\\s+local-path`));

    // The claim goes: its Delete-policy volume is released and deleted by the provisioner.
    for (const name of ['first', 'second', 'third'])
      await cluster.ok('DELETE', `${podPath(name)}?gracePeriodSeconds=0`);
    await cluster.ok('DELETE', pvcPath('data'));
    await waitFor(`volume ${volumeName} deleted`, async () =>
      (await status('GET', pvPath(volumeName))) === 404 ? true : undefined,
    );
  });

  it('leaves a pod whose claim does not exist unschedulable until the claim comes', async () => {
    await fresh('missing');
    await cluster.ok('POST', podPath(), pod('orphan', 'later'));
    const [failed] = await waitFor('FailedScheduling', async () => {
      const e = await events('orphan', 'FailedScheduling');
      return e.length ? e : undefined;
    });
    expect(failed.message).toBe('0/3 nodes are available: persistentvolumeclaim "later" not found.');
    await cluster.ok('POST', pvcPath(), pvc('later', '1Gi'));
    const node = await scheduledNode('orphan');
    await waitPhase('claim later', pvcPath('later'), 'Bound');
    const volume = await getPv(`pvc-${(await getPvc('later')).metadata.uid}`);
    expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0].matchExpressions?.[0].values).toEqual([
      node,
    ]);
  });
});
