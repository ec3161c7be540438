import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readKubeconfig } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type PrivateDocker, privateDocker } from '@app/testing/private-docker.js';

import { type Pod } from '../src/api-types.js';
import { type RunningNodeAgent, startNodeAgent } from '../src/run-node-agent.js';

/**
 * The agent across a restart of its container engine (an engine of this suite's own, so the
 * other suites' engine is never disturbed): the engine's containers die with it, the agent's
 * event stream breaks and reconnects, and the pod comes back in a new sandbox with its
 * restart counted — the pod object never lost, the node Ready again.
 */
describe('node agent: the Docker engine restarts under it', () => {
  let cluster: ApiCluster;
  let engine: PrivateDocker;
  let agent: RunningNodeAgent | undefined;
  let dataDir: string;
  const nodeName = 'engine-restart-node';

  beforeAll(async () => {
    [cluster, engine] = await Promise.all([startApiCluster(), privateDocker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'wake-engine-restart-'));
    agent = await startNodeAgent({
      connection: await readKubeconfig(cluster.kubeconfig),
      natsUrl: cluster.natsUrl,
      nodeName,
      dataDir,
      dockerSocket: engine.socketPath,
      clusterId: 'engine-restart',
      pauseImage: engine.images.pause,
      backoff: { baseMs: 200, capMs: 2_000, resetAfterMs: 10_000 },
      podResyncMs: 1_000,
      leaseRenewMs: 500,
      statusSyncMs: 500,
    });
  });

  afterAll(async () => {
    await agent?.close();
    // Each closed whatever the others did, so no server outlives the suite.
    const closed = await Promise.allSettled([
      engine?.close(),
      cluster?.close(),
      dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined,
    ]);
    const failed = closed.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  });

  const getPod = async () => (await cluster.api<Pod>('GET', '/api/v1/namespaces/default/pods/survivor')).body;

  it('brings the pod back after the engine restarts', async () => {
    const created = await cluster.api('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'survivor' },
      spec: {
        nodeName,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: engine.images.busybox, command: ['sleep', '3600'] }],
      },
    });
    expect(created.status).toBe(201);
    const first = await waitFor('the pod to run', async () => {
      const pod = await getPod();
      return pod.status?.containerStatuses?.[0]?.state?.running ? pod : undefined;
    });
    const firstId = first.status!.containerStatuses![0]!.containerID;

    await engine.restart();

    const back = await waitFor(
      'the pod to run again in new containers',
      async () => {
        const pod = await getPod();
        const c = pod.status?.containerStatuses?.[0];
        return c?.state?.running && c.containerID !== firstId ? pod : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(back.status?.phase).toBe('Running');
    expect(back.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(1);
    // Exactly one sandbox and one container of the pod run on the engine: nothing duplicated.
    const running = await engine.docker.listContainers({
      filters: { label: ['io.kubernetes.pod.name=survivor'] },
    });
    expect(running.map((c) => c.Labels['io.kubernetes.docker.type']).sort()).toEqual([
      'container',
      'podsandbox',
    ]);
    const node = (
      await cluster.api<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/api/v1/nodes/${nodeName}`,
      )
    ).body;
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    expect((await cluster.api('DELETE', '/api/v1/namespaces/default/pods/survivor')).status).toBe(200);
    await waitFor('the pod object to go', async () =>
      (await cluster.api('GET', '/api/v1/namespaces/default/pods/survivor')).status === 404
        ? true
        : undefined,
    );
    // Every container removed. The one exception is the engine's own: a container that died with
    // the old engine may keep a busy overlay mount the new engine cannot unlink, which it reports
    // as a failed removal ("removing"/"dead"); the agent goes on retrying it, but the engine decides.
    await waitFor('the pod’s containers to be removed', async () => {
      const left = await engine.docker.listContainers({
        all: true,
        filters: { label: ['io.kubernetes.pod.name=survivor'] },
      });
      return left.every((c) => c.State === 'removing' || c.State === 'dead') ? true : undefined;
    });
  });
});
