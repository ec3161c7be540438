import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type RunningNodeAgent, startNodeAgent } from '../../node-agent/src/run-node-agent.js';
import { type RunningScheduler, startScheduler } from '../../scheduler/src/run-scheduler.js';
import { type Pod } from '../src/replicaset/pod-types.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';
import { type PersistentVolume, type PersistentVolumeClaim } from '../src/volume/volume-types.js';

/**
 * A local-path volume on a real node: the real node agent on the real Docker engine, the
 * scheduler and the controller manager in this process. A pod writes into its claim, goes,
 * and the next pod on the same claim reads what it wrote, from the directory the node agent
 * made under the provisioner's base path.
 */
describe('local-path volumes on a real node agent and Docker engine', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let agent: RunningNodeAgent | undefined;
  let scheduler: RunningScheduler | undefined;
  let cm: RunningControllerManager | undefined;
  let dataDir = '';
  let baseDir = '';
  const clusterId = `test-volumes-${randomUUID().slice(0, 8)}`;
  const nodeName = 'volumes-node';
  const ns = 'default';

  const podPath = (name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;
  const pod = (name: string, script: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'c',
          image: docker.images.busybox,
          command: ['sh', '-c', script],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'notes' } }],
    },
  });
  const succeeded = (name: string) =>
    waitFor(
      `pod ${name} Succeeded`,
      async () => {
        const p = await cluster.ok<Pod>('GET', podPath(name));
        if (p.status?.phase === 'Failed') throw new Error(`pod ${name} failed: ${JSON.stringify(p.status)}`);
        return p.status?.phase === 'Succeeded' ? p : undefined;
      },
      { timeoutMs: 120_000 },
    );

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    dataDir = await mkdtemp(join(tmpdir(), 'wake-volumes-agent-'));
    baseDir = await mkdtemp(join(tmpdir(), 'wake-local-path-'));
    const connection = cluster.connection;
    agent = await startNodeAgent({
      connection,
      natsUrl: cluster.natsUrl,
      nodeName,
      dataDir,
      clusterId,
      pauseImage: docker.images.pause,
      backoff: { baseMs: 200, capMs: 2_000, resetAfterMs: 10_000 },
      podResyncMs: 1_000,
      leaseRenewMs: 500,
      statusSyncMs: 500,
    });
    scheduler = await startScheduler({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
      volumeBindTimeoutMs: 60_000,
    });
    cm = await startControllerManager({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      backoffMs: [50, 1000],
      pvResyncMs: 1000,
      localPathBaseDir: baseDir,
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([cm?.close(), scheduler?.close()]);
    await agent?.close();
    const left = docker ? await removeClusterContainers(docker.docker, clusterId) : [];
    await cluster?.close();
    await Promise.allSettled([
      dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined,
      baseDir ? rm(baseDir, { recursive: true, force: true }) : undefined,
    ]);
    expect(left).toEqual([]);
  });

  it('keeps what one pod wrote for the next pod on the same claim', async () => {
    await waitFor('the local-path StorageClass', async () =>
      (await cluster.api('GET', '/apis/storage.k8s.io/v1/storageclasses/local-path')).status === 200
        ? true
        : undefined,
    );
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name: 'notes' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
    });
    await cluster.ok('POST', podPath(), pod('writer', 'echo "kept across pods" > /data/note.txt'));
    await succeeded('writer');

    const claim = await cluster.ok<PersistentVolumeClaim>(
      'GET',
      `/api/v1/namespaces/${ns}/persistentvolumeclaims/notes`,
    );
    expect(claim.status?.phase).toBe('Bound');
    const volume = await cluster.ok<PersistentVolume>(
      'GET',
      `/api/v1/persistentvolumes/${claim.spec?.volumeName}`,
    );
    const dir = join(baseDir, `${claim.spec?.volumeName}_${ns}_notes`);
    expect(volume.spec?.hostPath).toEqual({ path: dir, type: 'DirectoryOrCreate' });
    // The node agent made the directory on first mount; the container wrote into it.
    expect(await readFile(join(dir, 'note.txt'), 'utf8')).toBe('kept across pods\n');

    await cluster.ok('DELETE', podPath('writer'));
    await waitFor(
      'writer gone',
      async () => ((await cluster.api('GET', podPath('writer'))).status === 404 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    await cluster.ok('POST', podPath(), pod('reader', 'cat /data/note.txt'));
    const reader = await succeeded('reader');
    expect(reader.spec?.nodeName).toBe(nodeName);
    const logs = await cluster.kubectl(33, ['-n', ns, 'logs', 'reader']);
    expect(logs.stdout).toBe('kept across pods\n');
  });
});
