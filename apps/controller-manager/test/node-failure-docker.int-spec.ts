import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiConnection } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type RunningNodeAgent, startNodeAgent } from '../../node-agent/src/run-node-agent.js';
import { type RunningSimAgent, startSimAgent } from '../../node-agent/src/sim/index.js';
import { type RunningScheduler, startScheduler } from '../../scheduler/src/run-scheduler.js';
import { type Node } from '../src/node-lifecycle/node-types.js';
import { type Pod } from '../src/replicaset/pod-types.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

const UNREACHABLE = 'node.kubernetes.io/unreachable';

/**
 * A node failure on a real Docker node: a node agent on the engine runs a Deployment's two
 * pods; its agent stops (the containers go on running, as when a kubelet dies), the node
 * lifecycle controller finds it silent past the (short) grace period, taints it unreachable,
 * the taint eviction controller evicts the pods after their 2 s toleration and the ReplicaSet
 * replaces them on the other (simulated) node. The agent starts again: the node is Ready and
 * untainted, and the agent, finding its pods deleted, removes their containers, so nothing
 * runs twice. Real scheduler, controller manager in-process, kubectl for the rollout.
 */
describe('node failure on a real Docker node', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let connection: ApiConnection;
  let agent: RunningNodeAgent | undefined;
  let sim: RunningSimAgent | undefined;
  let scheduler: RunningScheduler | undefined;
  let cm: RunningControllerManager | undefined;
  let dataDir = '';
  const clusterId = `test-node-failure-${randomUUID().slice(0, 8)}`;
  const nodeName = 'docker-node';
  const ns = 'failover';

  const startAgent = async () =>
    (agent = await startNodeAgent({
      connection,
      natsUrl: cluster.natsUrl,
      nodeName,
      dataDir,
      clusterId,
      pauseImage: docker.images.pause,
      podApiForwarder: false,
      leaseRenewMs: 200,
      statusSyncMs: 200,
      statusReportMs: 60_000,
      podResyncMs: 1000,
      backoff: { baseMs: 200, capMs: 2000 },
    }));
  const getNode = (name: string) => cluster.ok<Node>('GET', `/api/v1/nodes/${name}`);
  const pods = async () =>
    (await cluster.ok<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`))
      .items;
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const readyCondition = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
  /** The pod uids of the cluster's containers the engine runs (or keeps, with `all`). */
  const containerPods = async (all: boolean) =>
    new Set(
      (
        await docker.docker.listContainers({ all, filters: { label: [`wake.dev/cluster=${clusterId}`] } })
      ).map((c) => c.Labels['io.kubernetes.pod.uid']),
    );

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    connection = cluster.connection;
    dataDir = await mkdtemp(join(tmpdir(), 'wake-node-failure-'));
    scheduler = await startScheduler({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
    });
    cm = await startControllerManager({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: [
        'deployment',
        'replicaset',
        'garbage-collector',
        'node-lifecycle-controller',
        'taint-eviction-controller',
      ],
      backoffMs: [50, 1000],
      nodeLifecycle: {
        monitorPeriodMs: 200,
        gracePeriodMs: 2000,
        startupGracePeriodMs: 4000,
        evictionRate: 100,
      },
    });
    await startAgent();
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  });

  afterAll(async () => {
    await Promise.allSettled([cm?.close(), scheduler?.close(), sim?.close(), agent?.close()]);
    await cluster?.close();
    if (docker) await removeClusterContainers(docker.docker, clusterId);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('evicts the pods of a node whose agent stopped, replaces them elsewhere, and runs no duplicates when the agent is back', async () => {
    await cluster.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            tolerations: [
              { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
            ],
            containers: [{ name: 'c', image: docker.images.busybox, command: ['sleep', '3600'] }],
          },
        },
      },
    });
    const rollout = await cluster.kubectl(
      33,
      ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s'],
      { timeoutMs: 100_000 },
    );
    expect(rollout.stdout).toContain('successfully rolled out');
    const original = await pods();
    expect(original).toHaveLength(2);
    expect(original.every((p) => p.spec?.nodeName === nodeName)).toBe(true);
    const originalUids = original.map((p) => p.metadata.uid!);
    expect([...(await containerPods(false))].sort()).toEqual([...originalUids].sort());

    // The other node joins only now, so that the first pods were all on the Docker node.
    sim = await startSimAgent({
      connection,
      natsUrl: cluster.natsUrl,
      nodes: 1,
      nodeNamePrefix: 'other',
      leaseRenewMs: 300,
    });

    // The agent stops; its containers keep running, as a dead kubelet's do.
    await agent!.close();
    agent = undefined;
    const silent = await waitFor('the Docker node Ready=Unknown', async () => {
      const n = await getNode(nodeName);
      return readyCondition(n)?.status === 'Unknown' ? n : undefined;
    });
    expect(readyCondition(silent)).toMatchObject({ reason: 'NodeStatusUnknown' });
    await waitFor('the unreachable NoExecute taint', async () =>
      (await getNode(nodeName)).spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoExecute')
        ? true
        : undefined,
    );
    const replaced = await waitFor(
      'two replacements running on the other node, the originals evicted',
      async () => {
        const all = await pods();
        const evicted = original.every((o) =>
          all.every((p) => p.metadata.uid !== o.metadata.uid || p.metadata.deletionTimestamp),
        );
        const live = all.filter((p) => !p.metadata.deletionTimestamp);
        return evicted && live.length === 2 && live.every((p) => p.spec?.nodeName === 'other-0' && ready(p))
          ? live
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(replaced.filter((p) => originalUids.includes(p.metadata.uid!))).toEqual([]);
    // While the agent is away nobody stops its containers.
    expect([...(await containerPods(false))].sort()).toEqual([...originalUids].sort());

    // The agent is back: the node turns Ready, loses its taints, and the evicted pods' containers go.
    await startAgent();
    await waitFor(
      'the Docker node Ready and untainted',
      async () => {
        const n = await getNode(nodeName);
        return readyCondition(n)?.status === 'True' && !n.spec?.taints?.some((t) => t.key === UNREACHABLE)
          ? true
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await waitFor(
      'the evicted pods gone and none of their containers left',
      async () => {
        const all = await pods();
        const gone = originalUids.every((uid) => !all.some((p) => p.metadata.uid === uid));
        return gone && (await containerPods(true)).size === 0 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Exactly the pods bound to the Docker node run there: none now; the replacements stay put.
    const after = await pods();
    expect(after.filter((p) => p.spec?.nodeName === nodeName)).toEqual([]);
    expect(after.map((p) => p.metadata.uid).sort()).toEqual(replaced.map((p) => p.metadata.uid).sort());
  }, 180_000);
});
