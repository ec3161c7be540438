import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ApiConnection } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { type RunningScheduler, startScheduler } from '../../scheduler/src/run-scheduler.js';
import { type Node, type Pod } from '../src/api-types.js';
import { type LeaseObject } from '../src/node/index.js';
import {
  CHAOS_DELAY_ANNOTATIONS,
  CHAOS_LABELS,
  type RunningSimAgent,
  SHARD_LABEL,
  SIMULATED_LABEL,
  type SimAgentConfig,
  startSimAgent,
} from '../src/sim/index.js';

interface List<T> {
  items: T[];
}

/**
 * The simulated node runtime through the real API server, log and bus, with the real
 * scheduler binding pods: nodes registered Ready and kept alive by their Leases, pods played
 * through kwok's stages (Running, Job pods Succeeded, deleted pods removed), chaos stages,
 * the taint flag, and two processes splitting the nodes.
 */
describe('simulated nodes', () => {
  let cluster: ApiCluster;
  let scheduler: RunningScheduler;
  let connection: ApiConnection;
  const agents: RunningSimAgent[] = [];
  const NODES = 50;
  const ns = 'sim';

  const start = async (o: Partial<SimAgentConfig> & { nodes: number }) => {
    const agent = await startSimAgent({
      connection,
      natsUrl: cluster.natsUrl,
      leaseRenewMs: 300,
      chaos: true,
      restartBackoffMs: [100, 400],
      onTrouble: (what, e) => process.stderr.write(`sim trouble: ${what}: ${e.message}\n`),
      ...o,
    });
    agents.push(agent);
    return agent;
  };
  const get = async <T>(path: string) => {
    const r = await cluster.api<T>('GET', path);
    expect(r.status).toBe(200);
    return r.body;
  };
  const nodesLabelled = async (selector: string) =>
    (await get<List<Node>>(`/api/v1/nodes?labelSelector=${encodeURIComponent(selector)}`)).items;
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const getPod = (name: string) => get<Pod>(`/api/v1/namespaces/${ns}/pods/${name}`);
  const createPod = async (name: string, o: { spec?: object; metadata?: object } = {}) => {
    const r = await cluster.api('POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...o.metadata },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }], ...o.spec },
    });
    expect(r.status).toBe(201);
  };
  const podPhase = (name: string, phase: string) =>
    waitFor(`pod ${name} ${phase}`, async () => {
      const p = await getPod(name);
      return p.status?.phase === phase ? p : undefined;
    });

  beforeAll(async () => {
    cluster = await startApiCluster();
    connection = cluster.connection;
    scheduler = await startScheduler({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
    });
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    await start({ nodes: NODES, nodeNamePrefix: 'sim-a' });
  });

  afterAll(async () => {
    for (const a of agents) await a.close();
    await scheduler?.close();
    await cluster?.close();
  });

  it(`registers ${NODES} nodes, Ready, labelled simulated, untainted, with kubelet-shaped status`, async () => {
    const nodes = await nodesLabelled(`${SIMULATED_LABEL}=true`);
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(
      Array.from({ length: NODES }, (_, i) => `sim-a-${i}`).sort(),
    );
    for (const n of nodes) {
      expect(ready(n)).toBe('True');
      expect(n.spec?.taints).toBeUndefined();
    }
    const n7 = nodes.find((n) => n.metadata?.name === 'sim-a-7')!;
    expect(n7.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'sim-a-7',
      'kubernetes.io/os': 'linux',
      [SHARD_LABEL]: '0-of-1',
    });
    expect(n7.status?.addresses).toEqual([
      { type: 'InternalIP', address: '172.16.0.8' },
      { type: 'Hostname', address: 'sim-a-7' },
    ]);
    expect(n7.status?.capacity).toMatchObject({ cpu: '32', pods: '110' });
    expect(n7.status?.conditions?.map((c) => c.type)).toEqual([
      'MemoryPressure',
      'DiskPressure',
      'PIDPressure',
      'Ready',
    ]);
    const r = await cluster.kubectl(33, ['get', 'nodes', '-l', `${SIMULATED_LABEL}=true`, '--no-headers']);
    expect(r.stdout.trim().split('\n')).toHaveLength(NODES);
    expect(r.stdout).not.toMatch(/NotReady/);
  });

  it('keeps a Lease per node in kube-node-lease, owned by its Node and renewed', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    const first = (await get<List<LeaseObject>>(path)).items.filter((l) =>
      l.metadata.name?.startsWith('sim-a-'),
    );
    expect(first).toHaveLength(NODES);
    const node = (await nodesLabelled(`kubernetes.io/hostname=sim-a-0`))[0]!;
    const lease0 = first.find((l) => l.metadata.name === 'sim-a-0')!;
    expect(lease0.spec).toMatchObject({ holderIdentity: 'sim-a-0', leaseDurationSeconds: 40 });
    expect(lease0.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: 'sim-a-0', uid: node.metadata?.uid },
    ]);
    // Every node's Lease is renewed (renewals every 300 ms here, on one timer wheel).
    await waitFor('every lease renewed', async () => {
      const now = (await get<List<LeaseObject>>(path)).items;
      return first.every(
        (l) => now.find((x) => x.metadata.name === l.metadata.name)?.spec?.renewTime !== l.spec?.renewTime,
      )
        ? true
        : undefined;
    });
    // The status is not rewritten on every heartbeat: only a change or the 5-minute report writes it.
    const again = (await nodesLabelled(`kubernetes.io/hostname=sim-a-0`))[0]!;
    expect(again.metadata?.resourceVersion).toBe(node.metadata?.resourceVersion);
  });

  it('plays pods the scheduler binds to them to Running, in kwok’s pod-ready shape', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `web-${i}`);
    for (const name of names) await createPod(name, { metadata: { labels: { app: 'web' } } });
    const pods = await Promise.all(names.map((n) => podPhase(n, 'Running')));
    const nodes = await nodesLabelled(`${SIMULATED_LABEL}=true`);
    const ips = new Set<string>();
    for (const pod of pods) {
      const node = nodes.find((n) => n.metadata?.name === pod.spec?.nodeName)!;
      const index = Number(node.metadata!.name!.slice('sim-a-'.length));
      const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      expect(pod.status?.hostIP).toBe(internalIP);
      expect(pod.status?.hostIPs).toEqual([{ ip: internalIP }]);
      // The pod's address is in its node's /24 of 10.0.0.0/8.
      expect(pod.status?.podIP).toMatch(new RegExp(`^10\\.${index >> 8}\\.${index & 255}\\.\\d+$`));
      expect(pod.status?.podIPs).toEqual([{ ip: pod.status?.podIP }]);
      ips.add(pod.status!.podIP!);
      expect(pod.status?.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status]))).toEqual({
        PodScheduled: 'True',
        PodReadyToStartContainers: 'True',
        Initialized: 'True',
        Ready: 'True',
        ContainersReady: 'True',
      });
      expect(pod.status?.containerStatuses).toEqual([
        expect.objectContaining({
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: expect.any(String) } },
          containerID: expect.stringMatching(/^sim:\/\//),
        }),
      ]);
    }
    expect(ips.size).toBe(names.length);
    const r = await cluster.kubectl(33, ['get', 'pods', '-n', ns, '-l', 'app=web', '--no-headers']);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => /\s1\/1\s+Running\s/.test(l)),
    ).toHaveLength(names.length);
  });

  it('completes a Job’s pods: Succeeded, containers terminated with exit code 0', async () => {
    await createPod('job-pod', {
      metadata: {
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'job',
            uid: '6a1f0f5e-3c1d-4d2b-9b1e-0f3e2d1c0b9a',
            controller: true,
          },
        ],
      },
      spec: { restartPolicy: 'Never' },
    });
    const pod = await podPhase('job-pod', 'Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  it('answers kubectl logs over the bus: an empty log, the kubelet’s refusal for a previous run that never was', async () => {
    const logs = await cluster.kubectl(33, ['logs', '-n', ns, 'web-1']);
    expect(logs).toMatchObject({ code: 0, stdout: '' });
    const previous = await cluster.kubectl(33, ['logs', '-n', ns, 'web-1', '--previous']);
    expect(previous.code).not.toBe(0);
    expect(previous.stderr).toMatch(/previous terminated container "app" in pod "web-1" not found/);
  });

  it('removes a deleted pod: the API marks it, the simulated kubelet ends it', async () => {
    await podPhase('web-0', 'Running');
    const r = await cluster.kubectl(33, ['delete', 'pod', 'web-0', '-n', ns, '--wait=true', '--timeout=60s']);
    expect(r.code).toBe(0);
    expect((await cluster.api('GET', `/api/v1/namespaces/${ns}/pods/web-0`)).status).toBe(404);
  });

  it('chaos: a node labelled node-not-ready turns NotReady while its Lease goes on, and Ready again without the label', async () => {
    const path = '/api/v1/nodes/sim-a-3';
    const patch = (body: object) =>
      cluster.api('PATCH', path, body, { 'content-type': 'application/merge-patch+json' });
    expect(
      (
        await patch({
          metadata: {
            labels: { [CHAOS_LABELS.nodeNotReady]: 'true' },
            annotations: { [CHAOS_DELAY_ANNOTATIONS.nodeNotReady]: '100ms' },
          },
        })
      ).status,
    ).toBe(200);
    const notReady = await waitFor('sim-a-3 NotReady', async () => {
      const n = await get<Node>(path);
      return ready(n) === 'False' ? n : undefined;
    });
    expect(notReady.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'KubeletNotReady',
    });
    const r = await cluster.kubectl(33, ['get', 'node', 'sim-a-3', '--no-headers']);
    expect(r.stdout).toMatch(/^sim-a-3\s+NotReady\s/);
    // Its kubelet is alive, only unwell: the Lease is still renewed.
    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/sim-a-3';
    const lease = await get<LeaseObject>(leasePath);
    await waitFor('the NotReady node’s lease renewed', async () =>
      (await get<LeaseObject>(leasePath)).spec?.renewTime !== lease.spec?.renewTime ? true : undefined,
    );
    expect((await patch({ metadata: { labels: { [CHAOS_LABELS.nodeNotReady]: null } } })).status).toBe(200);
    await waitFor('sim-a-3 Ready again', async () =>
      ready(await get<Node>(path)) === 'True' ? true : undefined,
    );
  });

  it('chaos: a pod labelled container-crash crash-loops: CrashLoopBackOff, restarted, restartCount growing', async () => {
    await createPod('crasher', {
      metadata: {
        labels: { [CHAOS_LABELS.containerCrash]: 'true' },
        annotations: { [CHAOS_DELAY_ANNOTATIONS.containerCrash]: '100ms' },
      },
      spec: { nodeName: 'sim-a-5' },
    });
    const backoff = await waitFor('crasher in CrashLoopBackOff', async () => {
      const s = (await getPod('crasher')).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    });
    expect(backoff.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(backoff.ready).toBe(false);
    await waitFor('crasher restarted at least twice', async () => {
      const s = (await getPod('crasher')).status?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 2 ? true : undefined;
    });
    expect((await getPod('crasher')).status?.phase).toBe('Running');
  });

  it('realistic profile: a pod shows ContainerCreating with its address first, then Running', async () => {
    await start({ nodes: 1, nodeNamePrefix: 'sim-r', profile: 'realistic', chaos: false });
    const watch = await cluster.stream(
      `/api/v1/namespaces/${ns}/pods?watch=1&fieldSelector=metadata.name%3Dslow`,
    );
    try {
      await createPod('slow', { spec: { nodeName: 'sim-r-0' } });
      await podPhase('slow', 'Running');
      await waitFor('the watch to deliver Running', async () =>
        watch.lines.some((l) => l.includes('"phase":"Running"')) ? true : undefined,
      );
      const states = watch.lines.map((l) => (JSON.parse(l) as { object: Pod }).object.status);
      const creating = states.findIndex(
        (s) => s?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating',
      );
      const running = states.findIndex((s) => s?.phase === 'Running');
      expect(creating).toBeGreaterThanOrEqual(0);
      expect(running).toBeGreaterThan(creating);
      expect(states[creating]).toMatchObject({ phase: 'Pending', podIP: expect.stringMatching(/^10\./) });
      expect(states[running]?.podIP).toBe(states[creating]?.podIP);
    } finally {
      watch.close();
    }
  });

  it('taints its nodes wake.dev/simulated=true:NoSchedule when asked', async () => {
    await start({ nodes: 2, nodeNamePrefix: 'sim-t', taint: true, chaos: false });
    const nodes = await nodesLabelled('kubernetes.io/hostname in (sim-t-0,sim-t-1)');
    expect(nodes).toHaveLength(2);
    for (const n of nodes)
      expect(n.spec?.taints).toEqual([{ key: SIMULATED_LABEL, value: 'true', effect: 'NoSchedule' }]);
  });

  it('two processes sharding the nodes never both speak for one node, and together play them all', async () => {
    const [a, b] = await Promise.all([
      start({ nodes: 6, nodeNamePrefix: 'sim-s', shard: { index: 0, count: 2 } }),
      start({ nodes: 6, nodeNamePrefix: 'sim-s', shard: { index: 1, count: 2 } }),
    ]);
    const mine = [a.nodes.names, b.nodes.names];
    expect(mine[0]).toEqual(['sim-s-0', 'sim-s-2', 'sim-s-4']);
    expect(mine[1]).toEqual(['sim-s-1', 'sim-s-3', 'sim-s-5']);
    const nodes = await nodesLabelled(`${SIMULATED_LABEL}=true`);
    for (const n of nodes.filter((x) => x.metadata?.name?.startsWith('sim-s-'))) {
      const index = Number(n.metadata!.name!.slice('sim-s-'.length));
      expect(n.metadata?.labels?.[SHARD_LABEL]).toBe(`${index % 2}-of-2`);
      expect(ready(n)).toBe('True');
    }
    // One pod on each shard node: each turns Running, and only its own process wrote its status.
    const before = [a.pods.writeCount, b.pods.writeCount];
    for (let i = 0; i < 6; i++) await createPod(`shard-${i}`, { spec: { nodeName: `sim-s-${i}` } });
    await Promise.all(Array.from({ length: 6 }, (_, i) => podPhase(`shard-${i}`, 'Running')));
    expect([a.pods.writeCount - before[0]!, b.pods.writeCount - before[1]!]).toEqual([3, 3]);
  });
});
