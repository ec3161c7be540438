import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiClient, readKubeconfig } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type Container, type Pod } from '../src/api-types.js';
import {
  ApiObjectSource,
  ApiTokenSource,
  ContainerConfigError,
  PodConfigurer,
  TERMINATION_MESSAGE_FILE_LABEL,
  VolumeSetupError,
} from '../src/config/index.js';
import { DockerRuntime, type PodRef } from '../src/runtime/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * The configurer against the real API server (ConfigMaps, Secrets, Services, PV and PVC made
 * through it) and the real Docker engine: specs it builds run in busybox containers of a pause
 * sandbox, and what the containers see (env, files, limits) is what the kubelet would give.
 */
describe('PodConfigurer with the real API server and Docker engine', () => {
  let cluster: ApiCluster;
  let client: ApiClient;
  let docker: TestDocker;
  let runtime: DockerRuntime;
  let configurer: PodConfigurer;
  let work: string;
  const clusterId = `test-${randomUUID().slice(0, 8)}`;
  const ns = 'shop';
  const podUids: string[] = [];

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    client = new ApiClient(await readKubeconfig(cluster.kubeconfig), { userAgent: 'config-int-spec' });
    runtime = new DockerRuntime(docker.docker, { clusterId, pauseImage: docker.images.pause });
    work = await mkdtemp(join(tmpdir(), 'wake-config-'));
    configurer = new PodConfigurer(new ApiObjectSource(client, { ttlMs: 100 }), new ApiTokenSource(client), {
      podsDir: join(work, 'pods'),
      nodeAllocatable: { cpu: '2', memory: '4Gi' },
      hostIPs: ['10.1.2.3'],
    });
    await client.create('/api/v1/namespaces', { metadata: { name: ns } });
    await client.create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'settings' },
      data: { MODE: 'fast', 'app.conf': 'listen 8080\n', LEVEL: '3' },
    });
    await client.create(`/api/v1/namespaces/${ns}/secrets`, {
      metadata: { name: 'creds' },
      data: { PASSWORD: b64('s3cret'), token: b64('t0ken') },
    });
    await client.create(`/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'db-main' },
      spec: { selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] },
    });
  }, 240_000);

  afterAll(async () => {
    if (docker) expect(await removeClusterContainers(docker.docker, clusterId)).toEqual([]);
    for (const uid of podUids) await configurer?.cleanupPod(uid);
    client?.close();
    await cluster?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Creates the pod through the API (so it has a uid and upstream's defaults), bound to this node. */
  async function createPod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<Pod> {
    const pod = await client.call<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name, labels: { app: name, tier: 'front' }, annotations: { note: 'hello' } },
      spec: { automountServiceAccountToken: false, nodeName: 'node-a', ...spec },
    });
    podUids.push(pod.metadata!.uid!);
    return pod;
  }

  const ref = (pod: Pod): PodRef => ({ name: pod.metadata!.name!, namespace: ns, uid: pod.metadata!.uid! });

  /** The pod's sandbox, and the pod as the pod manager passes it on: with the sandbox's IP. */
  async function sandbox(pod: Pod): Promise<{ id: string; pod: Pod; ip: string }> {
    const id = await runtime.runSandbox(ref(pod), 0);
    const ip = (await runtime.inspect(id)).ipAddress!;
    return { id, ip, pod: { ...pod, status: { ...pod.status, podIP: ip, podIPs: [{ ip }] } } };
  }

  async function start(sandboxId: string, pod: Pod, container: Container): Promise<string> {
    const spec = await configurer.containerSpec(pod, container);
    const id = await runtime.createContainer(sandboxId, ref(pod), spec, 0);
    await runtime.startContainer(id);
    return id;
  }

  async function runToExit(
    sandboxId: string,
    pod: Pod,
    name: string,
  ): Promise<{ id: string; out: string[] }> {
    const container = pod.spec!.containers.find((c) => c.name === name)!;
    const id = await start(sandboxId, pod, container);
    const status = await waitFor(`${name} to exit`, async () => {
      const s = await runtime.inspect(id);
      return s.status === 'exited' ? s : undefined;
    });
    const out = (await runtime.logs(id)).map((l) => l.line);
    expect({ name, exitCode: status.exitCode, out }).toMatchObject({ exitCode: 0 });
    return { id, out };
  }

  const sh = (name: string, script: string, extra: Partial<Container> = {}): Container => ({
    name,
    image: docker.images.busybox,
    command: ['sh', '-c', script],
    ...extra,
  });

  it('gives a container env from configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef, envFrom and Services, and expands $(VAR) in command', async () => {
    const created = await createPod('envs', {
      containers: [
        sh('env', 'env; echo "ARG=$1"', {
          args: ['ignored-$0', '$(MODE)-$(PASS)'],
          resources: { requests: { cpu: '250m' }, limits: { memory: '64Mi' } },
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CM_' }, { secretRef: { name: 'creds' } }],
          env: [
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
            { name: 'POD_TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
            {
              name: 'MEM_MI',
              valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
            },
            { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
            {
              name: 'CPU_REQ_M',
              valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } },
            },
            { name: 'COMBINED', value: '$(MODE)/$(DB_MAIN_SERVICE_HOST)/$$(MODE)/$(NOPE)' },
          ],
        }),
      ],
    });
    const { id: sandboxId, pod, ip } = await sandbox(created);
    await configurer.preparePod(pod);
    const { out } = await runToExit(sandboxId, pod, 'env');
    const env = Object.fromEntries(
      out
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const db = await client.call<{ spec: { clusterIP: string } }>(
      'GET',
      `/api/v1/namespaces/${ns}/services/db-main`,
    );
    const kubernetes = await client.call<{ spec: { clusterIP: string } }>(
      'GET',
      '/api/v1/namespaces/default/services/kubernetes',
    );
    expect(env).toMatchObject({
      MODE: 'fast',
      PASS: 's3cret',
      CM_MODE: 'fast',
      CM_LEVEL: '3',
      PASSWORD: 's3cret',
      token: 't0ken',
      POD_NAME: 'envs',
      POD_NS: ns,
      POD_UID: pod.metadata!.uid,
      POD_TIER: 'front',
      NODE: 'node-a',
      POD_IP: ip,
      HOST_IP: '10.1.2.3',
      SA: 'default',
      MEM_MI: '64',
      CPU_LIMIT: '2',
      CPU_REQ_M: '250',
      COMBINED: `fast/${db.spec.clusterIP}/$(MODE)/$(NOPE)`,
      DB_MAIN_SERVICE_HOST: db.spec.clusterIP,
      DB_MAIN_SERVICE_PORT: '5432',
      DB_MAIN_SERVICE_PORT_PG: '5432',
      DB_MAIN_PORT: `tcp://${db.spec.clusterIP}:5432`,
      DB_MAIN_PORT_5432_TCP_ADDR: db.spec.clusterIP,
      KUBERNETES_SERVICE_HOST: kubernetes.spec.clusterIP,
      KUBERNETES_SERVICE_PORT: '443',
      ARG: 'fast-s3cret',
    });
    // envFrom's `app.conf` is no variable name: skipped.
    expect(env).not.toHaveProperty('CM_app.conf');
  });

  it('mounts configMap, secret, downwardAPI, hostPath and PVC volumes with their items, modes and subPaths, read-only where upstream is', async () => {
    const hostDir = join(work, 'host-data');
    const pvDir = join(work, 'pv-data');
    await mkdir(pvDir, { recursive: true });
    await writeFile(join(pvDir, 'stored.txt'), 'kept on the node\n');
    const pvc = await client.call<{ metadata: { uid?: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
          volumeName: 'pv-data',
        },
      },
    );
    await client.create('/api/v1/persistentvolumes', {
      metadata: { name: 'pv-data' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: pvDir, type: 'Directory' },
        claimRef: { kind: 'PersistentVolumeClaim', namespace: ns, name: 'data', uid: pvc.metadata.uid },
      },
    });
    await client.patch(`/api/v1/namespaces/${ns}/persistentvolumeclaims/data/status`, {
      status: { phase: 'Bound' },
    });

    const script = [
      'cat /etc/cfg/conf/app.conf',
      'ls /etc/cfg',
      'stat -c %a /etc/cfg/..data/conf/app.conf',
      'cat /etc/sec/PASSWORD; echo',
      'stat -c %a /etc/sec/..data/PASSWORD',
      'cat /etc/info/labels; echo',
      'cat /etc/info/name; echo',
      'cat /etc/info/mem; echo',
      'cat /single.conf',
      'echo from-container > /host/written.txt',
      'cat /pv/stored.txt',
      'touch /etc/cfg/new 2>/dev/null && echo cfg-writable || echo cfg-read-only',
      'touch /pv/ro 2>/dev/null && echo pv-writable || echo pv-read-only',
    ].join('; ');
    const created = await createPod('files', {
      volumes: [
        {
          name: 'cfg',
          configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] },
        },
        { name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } },
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              {
                path: 'mem',
                resourceFieldRef: { containerName: 'files', resource: 'limits.memory', divisor: '1Mi' },
              },
            ],
          },
        },
        { name: 'whole', configMap: { name: 'settings' } },
        { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        { name: 'pv', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
      ],
      containers: [
        sh('files', script, {
          resources: { limits: { memory: '32Mi' } },
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/cfg' },
            { name: 'sec', mountPath: '/etc/sec' },
            { name: 'info', mountPath: '/etc/info' },
            { name: 'whole', mountPath: '/single.conf', subPath: 'app.conf' },
            { name: 'host', mountPath: '/host' },
            { name: 'pv', mountPath: '/pv' },
          ],
        }),
      ],
    });
    const { id: sandboxId, pod } = await sandbox(created);
    await configurer.preparePod(pod);
    // Idempotent: a second sync changes nothing and fails nothing.
    await configurer.preparePod(pod);
    const { out } = await runToExit(sandboxId, pod, 'files');
    expect(out).toEqual([
      'listen 8080',
      'conf',
      '600',
      's3cret',
      '400',
      'app="files"',
      'tier="front"',
      'files',
      '32',
      'listen 8080',
      'kept on the node',
      'cfg-read-only',
      'pv-read-only',
    ]);
    expect(await readFile(join(hostDir, 'written.txt'), 'utf8')).toBe('from-container\n');
  });

  it('shares an emptyDir between two containers of the pod', async () => {
    const created = await createPod('shared', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [
        sh('writer', 'echo handed-over > /work/msg', {
          volumeMounts: [{ name: 'scratch', mountPath: '/work' }],
        }),
        sh('reader', 'cat /data/msg', { volumeMounts: [{ name: 'scratch', mountPath: '/data' }] }),
      ],
    });
    const { id: sandboxId, pod } = await sandbox(created);
    await configurer.preparePod(pod);
    await runToExit(sandboxId, pod, 'writer');
    expect((await runToExit(sandboxId, pod, 'reader')).out).toEqual(['handed-over']);
  });

  it('sets the engine’s CPU shares, quota and memory limit, the user, and the termination-message file', async () => {
    const created = await createPod('limits', {
      securityContext: { runAsUser: 1000 },
      containers: [
        sh('limited', 'id -u; id -g; echo bye > /dev/termination-log', {
          resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } },
          securityContext: { runAsGroup: 2000 },
        }),
      ],
    });
    const { id: sandboxId, pod } = await sandbox(created);
    await configurer.preparePod(pod);
    const { id, out } = await runToExit(sandboxId, pod, 'limited');
    expect(out).toEqual(['1000', '2000']);
    const info = await docker.docker.getContainer(id).inspect();
    expect(info.HostConfig).toMatchObject({
      CpuShares: 256,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      Memory: 64 * 1024 * 1024,
    });
    expect(info.Config.User).toBe('1000:2000');
    const file = info.Config.Labels[TERMINATION_MESSAGE_FILE_LABEL]!;
    expect(file.startsWith(join(configurer.podDir(pod.metadata!.uid!), 'containers', 'limited'))).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('bye\n');
  });

  it('refreshes a configMap volume on the next preparePod: a running container sees the new content', async () => {
    await client.create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'live' },
      data: { value: 'v1' },
    });
    const created = await createPod('live', {
      volumes: [{ name: 'live', configMap: { name: 'live' } }],
      containers: [sh('watcher', 'sleep 3600', { volumeMounts: [{ name: 'live', mountPath: '/live' }] })],
    });
    const { id: sandboxId, pod } = await sandbox(created);
    await configurer.preparePod(pod);
    const id = await start(sandboxId, pod, pod.spec!.containers[0]!);
    expect((await runtime.execCapture(id, ['cat', '/live/value'], 10_000)).output).toBe('v1');
    const volume = join(configurer.podDir(pod.metadata!.uid!), 'volumes', 'kubernetes.io~configmap', 'live');
    const before = await readlink(join(volume, '..data'));

    await client.patch(`/api/v1/namespaces/${ns}/configmaps/live`, { data: { value: 'v2' } });
    // The object source caches for 100 ms: sync until the change is read, as the kubelet resyncs.
    await waitFor('the new content in the container', async () => {
      await configurer.preparePod(pod);
      const seen = (await runtime.execCapture(id, ['cat', '/live/value'], 10_000)).output;
      return seen === 'v2' ? seen : undefined;
    });
    expect(await readlink(join(volume, '..data'))).not.toBe(before);
    await runtime.removeContainer(id, { force: true });
  });

  it('fails with upstream’s messages: a missing key (ContainerConfigError), a missing ConfigMap and an unbound PVC (VolumeSetupError)', async () => {
    await client.create(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name: 'pending' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const pod = await createPod('broken', {
      containers: [
        sh('c', 'true', {
          env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nokey' } } }],
        }),
      ],
    });
    const missingKey = configurer.containerSpec(pod, pod.spec!.containers[0]!);
    await expect(missingKey).rejects.toBeInstanceOf(ContainerConfigError);
    await expect(missingKey).rejects.toMatchObject({
      reason: 'CreateContainerConfigError',
      message: `couldn't find key nokey in ConfigMap ${ns}/settings`,
    });
    const noMap = configurer.containerSpec(
      pod,
      sh('d', 'true', { envFrom: [{ configMapRef: { name: 'absent' } }] }),
    );
    await expect(noMap).rejects.toMatchObject({ message: 'configmap "absent" not found' });

    const volumes = await createPod('broken-volumes', {
      volumes: [
        { name: 'gone', configMap: { name: 'absent' } },
        { name: 'maybe', configMap: { name: 'absent', optional: true } },
        { name: 'claim', persistentVolumeClaim: { claimName: 'pending' } },
      ],
      containers: [sh('c', 'true')],
    });
    const failed = configurer.preparePod(volumes);
    await expect(failed).rejects.toBeInstanceOf(VolumeSetupError);
    await expect(failed).rejects.toMatchObject({
      reason: 'FailedMount',
      message:
        'MountVolume.SetUp failed for volume "gone" : configmap "absent" not found; ' +
        `error processing PVC ${ns}/pending: PVC is not bound`,
    });
    // A volume that could not be set up cannot be mounted.
    const c = sh('c', 'true', { volumeMounts: [{ name: 'gone', mountPath: '/x' }] });
    await expect(configurer.containerSpec(volumes, c)).rejects.toMatchObject({
      message: 'cannot find volume "gone" to mount into container "c"',
    });
  });

  it('removes the pod’s directory on cleanup', async () => {
    const pod = await createPod('short', {
      volumes: [{ name: 'e', emptyDir: {} }],
      containers: [sh('c', 'true')],
    });
    await configurer.preparePod(pod);
    const dir = configurer.podDir(pod.metadata!.uid!);
    await expect(readlink(dir)).rejects.toMatchObject({ code: 'EINVAL' }); // a directory, not a link
    await configurer.cleanupPod(pod.metadata!.uid!);
    await expect(readlink(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
