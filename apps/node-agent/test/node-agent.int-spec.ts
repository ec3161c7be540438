import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readKubeconfig } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, type TestDocker } from '@app/testing/docker.js';

import { type Node } from '../src/api-types.js';
import { type LeaseObject } from '../src/node/index.js';
import { type RunningNodeAgent, startNodeAgent } from '../src/run-node-agent.js';

/**
 * The node agent's node side through the real API server, log and bus, on the real Docker
 * engine: registration with the host's capacity and the kubelet's labels and taints, a Lease
 * in kube-node-lease that keeps being renewed, and a status that reads as a kubelet's.
 */
describe('node agent: registration, Lease and status', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let agent: RunningNodeAgent | undefined;
  let dataDir: string;
  const nodeName = 'agent-node-1';

  const start = async () =>
    startNodeAgent({
      connection: await readKubeconfig(cluster.kubeconfig),
      natsUrl: cluster.natsUrl,
      nodeName,
      dataDir,
      clusterId: `test-${process.pid}`,
      pauseImage: docker.images.pause,
      registration: {
        labels: { 'wake.dev/pool': 'blue' },
        taints: [{ key: 'dedicated', value: 'tests', effect: 'NoSchedule' }],
      },
      leaseRenewMs: 200,
      statusSyncMs: 200,
      statusReportMs: 60_000,
      healthzPort: 0,
    });

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    dataDir = await mkdtemp(join(tmpdir(), 'wake-agent-'));
    agent = await start();
  });

  afterAll(async () => {
    await agent?.close();
    await cluster?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const getNode = async () => (await cluster.api<Node>('GET', `/api/v1/nodes/${nodeName}`)).body;
  const getLease = async () =>
    (
      await cluster.api<LeaseObject>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`,
      )
    ).body;

  it('registers its Node with the host’s capacity, the kubelet’s labels, the flags’ labels and taints', async () => {
    const node = await getNode();
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': expect.stringMatching(/^(amd64|arm64)$/),
      'wake.dev/pool': 'blue',
    });
    expect(node.spec?.taints).toEqual([{ key: 'dedicated', value: 'tests', effect: 'NoSchedule' }]);
    expect(node.status?.capacity).toMatchObject({
      cpu: expect.stringMatching(/^\d+$/),
      memory: expect.stringMatching(/^\d+Ki$/),
      pods: '110',
      'ephemeral-storage': expect.stringMatching(/^\d+Ki$/),
    });
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
    expect(node.status?.nodeInfo).toMatchObject({
      containerRuntimeVersion: expect.stringMatching(/^docker:\/\/\d+\./),
      operatingSystem: 'linux',
      kubeletVersion: expect.stringMatching(/^v1\./),
    });
    expect(node.status?.addresses).toEqual(
      expect.arrayContaining([
        { type: 'Hostname', address: nodeName },
        expect.objectContaining({ type: 'InternalIP' }),
      ]),
    );
    // The locally built images are on the engine, so the scheduler's ImageLocality can see them.
    expect(node.status?.images?.flatMap((i) => i.names ?? [])).toContain(docker.images.pause);
  });

  it('reports the kubelet’s four conditions, Ready because the engine answers', async () => {
    const conditions = (await getNode()).status?.conditions ?? [];
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
    const r = await cluster.kubectl(33, ['get', 'nodes', nodeName, '--no-headers']);
    expect(r.stdout).toMatch(new RegExp(`^${nodeName}\\s+Ready\\s`));
  });

  it('serves /healthz, /livez, /readyz and the kubelet’s metrics', async () => {
    const url = agent!.agent.metricsUrl!;
    for (const path of ['/healthz', '/livez', '/readyz'])
      expect(await (await fetch(url + path)).text()).toBe('ok');
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(`kubelet_node_name{node="${nodeName}"} 1`);
  });

  it('keeps a Lease in kube-node-lease, owned by its Node, renewed while it runs', async () => {
    const first = await getLease();
    const node = await getNode();
    expect(first.spec).toMatchObject({ holderIdentity: nodeName, leaseDurationSeconds: 40 });
    expect(first.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata?.uid },
    ]);
    await waitFor('the lease to be renewed', async () => {
      const now = await getLease();
      return now.spec?.renewTime !== first.spec?.renewTime ? true : undefined;
    });
  });

  it('writes an unchanged status only at the report interval, not on every sync', async () => {
    const before = await getNode();
    // Several syncs (every 200 ms) pass; the report interval (60 s) does not: nothing is written.
    const lease = await getLease();
    await waitFor('three lease renewals', async () => {
      const now = await getLease();
      return Number(now.metadata.resourceVersion) > Number(lease.metadata.resourceVersion) + 2
        ? true
        : undefined;
    });
    const after = await getNode();
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('adopts its Node after a restart: same uid, labels refreshed, a foreign label kept', async () => {
    const before = await getNode();
    const patched = await cluster.api(
      'PATCH',
      `/api/v1/nodes/${nodeName}`,
      { metadata: { labels: { 'kubernetes.io/os': 'plan9', team: 'infra' } } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    await agent!.close();
    agent = await start();
    const after = await getNode();
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.metadata?.labels).toMatchObject({ 'kubernetes.io/os': 'linux', team: 'infra' });
  });

  it('a restarted agent registers its deleted Node again, Ready', async () => {
    const before = await getNode();
    expect((await cluster.api('DELETE', `/api/v1/nodes/${nodeName}`)).status).toBe(200);
    await agent!.close();
    agent = await start();
    const after = await waitFor('the node to be back', async () => {
      const r = await cluster.api<Node>('GET', `/api/v1/nodes/${nodeName}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    expect(after.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
