import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { type RunningScheduler, startScheduler } from '../src/run-scheduler.js';

interface Pod {
  metadata: { name: string; namespace: string };
  spec: { nodeName?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

function node(name: string, o: { cpu?: string; labels?: Record<string, string>; taints?: unknown[] } = {}) {
  const capacity = { cpu: o.cpu ?? '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: o.taints ? { taints: o.taints } : {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(
  name: string,
  spec: Record<string, unknown> = {},
  labels: Record<string, string> = {},
  cpu = '100m',
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      containers: [
        { name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu, memory: '64Mi' } } },
      ],
      ...spec,
    },
  };
}

describe('scheduler through the real API server, log and bus', () => {
  let cluster: ApiCluster;
  let scheduler: RunningScheduler;
  let ns = '';
  const namespaces: string[] = [];

  const createNode = async (...args: Parameters<typeof node>) => {
    const r = await cluster.api('POST', '/api/v1/nodes', node(...args));
    expect(r.status).toBe(201);
  };
  const createPod = async (body: ReturnType<typeof pod>) => {
    const r = await cluster.api('POST', `/api/v1/namespaces/${ns}/pods`, body);
    expect(r.status).toBe(201);
  };
  const getPod = async (name: string) =>
    (await cluster.api<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`)).body;
  const boundNode = (name: string, timeoutMs = 20_000) =>
    waitFor(`pod ${name} bound`, async () => (await getPod(name)).spec.nodeName, { timeoutMs });
  const unschedulable = (name: string) =>
    waitFor(`pod ${name} marked unschedulable`, async () => {
      const c = (await getPod(name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' ? c : undefined;
    });
  /** Each test gets its own namespace and its own nodes (removed after), so tests do not see each other's. */
  const fresh = async (name: string, nodes: Parameters<typeof node>[]) => {
    // Earlier tests' pods (some still waiting to be scheduled) must not land on these nodes.
    for (const old of namespaces)
      expect(
        (await cluster.api('DELETE', `/api/v1/namespaces/${old}/pods?gracePeriodSeconds=0`)).status,
      ).toBe(200);
    ns = name;
    namespaces.push(ns);
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    const existing = (await cluster.api<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/nodes'))
      .body.items;
    for (const n of existing) await cluster.api('DELETE', `/api/v1/nodes/${n.metadata.name}`);
    for (const args of nodes) await createNode(...args);
    // The scheduler's cache has the new nodes once its informer has passed their creation.
    await waitFor('the scheduler to see the nodes', () =>
      scheduler.runtime.cache.snapshot().nodes.length === nodes.length ? true : undefined,
    );
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    scheduler = await startScheduler({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
      metricsPort: 0,
    });
  });
  afterAll(async () => {
    await scheduler?.close();
    await cluster?.close();
  });

  it('binds pods where resources fit; a pod that fits nowhere waits, explained, until a node that fits appears', async () => {
    await fresh('res', [
      ['small-1', { cpu: '1' }],
      ['small-2', { cpu: '1' }],
    ]);
    await createPod(pod('fits', {}, {}, '500m'));
    expect(['small-1', 'small-2']).toContain(await boundNode('fits'));

    await createPod(pod('big', {}, {}, '2'));
    const condition = await unschedulable('big');
    expect(condition).toMatchObject({
      reason: 'Unschedulable',
      message: '0/2 nodes are available: 2 Insufficient cpu.',
    });
    const events = await waitFor('a FailedScheduling event', async () => {
      const list = await cluster.api<{ items: { reason: string; message: string; type: string }[] }>(
        'GET',
        `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3Dbig`,
      );
      return list.body.items.find((e) => e.reason === 'FailedScheduling');
    });
    expect(events).toMatchObject({
      type: 'Warning',
      message: '0/2 nodes are available: 2 Insufficient cpu.',
    });

    const described = await cluster.kubectl(33, ['-n', ns, 'describe', 'pod', 'big']);
    expect(described.stdout).toMatch(/PodScheduled\s+False/);
    expect(described.stdout).toMatch(
      /Warning\s+FailedScheduling\s+.*0\/2 nodes are available: 2 Insufficient cpu\./,
    );

    await createNode('large', { cpu: '8' });
    expect(await boundNode('big')).toBe('large');
  });

  it('keeps pods off tainted nodes unless they tolerate the taint, and honours node affinity', async () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    await fresh('taints', [
      ['plain', { labels: { zone: 'a' } }],
      ['gpu', { labels: { zone: 'b' }, taints: [taint] }],
    ]);
    for (let i = 0; i < 4; i++) await createPod(pod(`any-${i}`));
    for (let i = 0; i < 4; i++) expect(await boundNode(`any-${i}`)).toBe('plain');

    await createPod(
      pod('tolerant', {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        nodeSelector: { zone: 'b' },
      }),
    );
    expect(await boundNode('tolerant')).toBe('gpu');

    await createPod(pod('wants-b', { nodeSelector: { zone: 'b' } }));
    const c = await unschedulable('wants-b');
    expect(c.message).toBe(
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}.",
    );

    await createPod(
      pod('affine', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      }),
    );
    expect(await boundNode('affine')).toBe('plain');
  });

  it('places by pod affinity and anti-affinity, and spreads by topology spread constraints', async () => {
    await fresh('spread', [
      ['z1-a', { labels: { zone: 'z1' } }],
      ['z1-b', { labels: { zone: 'z1' } }],
      ['z2-a', { labels: { zone: 'z2' } }],
    ]);
    const anti = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
    };
    for (let i = 0; i < 3; i++) await createPod(pod(`solo-${i}`, anti, { app: 'solo' }));
    const hosts = await Promise.all([0, 1, 2].map((i) => boundNode(`solo-${i}`)));
    expect(new Set(hosts).size).toBe(3);
    await createPod(pod('solo-3', anti, { app: 'solo' }));
    expect((await unschedulable('solo-3')).message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
    );

    // Required pod affinity: the follower must share a node with the leader, wherever that went.
    await createPod(pod('leader', {}, { app: 'leader' }));
    const leaderNode = await boundNode('leader');
    const follow = {
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'leader' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
    };
    for (let i = 0; i < 3; i++) await createPod(pod(`follower-${i}`, follow));
    for (let i = 0; i < 3; i++) expect(await boundNode(`follower-${i}`)).toBe(leaderNode);

    const spread = {
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'web' } },
        },
      ],
    };
    // One at a time, so each sees the last one placed: the zones must alternate within a skew of 1.
    const zones: string[] = [];
    for (let i = 0; i < 4; i++) {
      await createPod(pod(`web-${i}`, spread, { app: 'web' }));
      zones.push((await boundNode(`web-${i}`)).startsWith('z1') ? 'z1' : 'z2');
    }
    expect(zones.filter((z) => z === 'z1')).toHaveLength(2);
    expect(zones.filter((z) => z === 'z2')).toHaveLength(2);
  });

  it('leaves pods for another scheduler alone', async () => {
    await fresh('others', [['only', { cpu: '1' }]]);
    await createPod(pod('not-mine', { schedulerName: 'someone-else' }));
    await createPod(pod('mine'));
    await boundNode('mine');
    expect((await getPod('not-mine')).spec.nodeName).toBeUndefined();
    expect(
      (await getPod('not-mine')).status?.conditions?.find((c) => c.type === 'PodScheduled'),
    ).toBeUndefined();
  });

  it('never over-commits a node in a burst: pods assumed at once count before their bindings land', async () => {
    await fresh('burst', [
      ['n1', { cpu: '1' }],
      ['n2', { cpu: '1' }],
    ]);
    // 10 pods of 300m on 2 nodes of 1 CPU: exactly 3 fit per node.
    for (let i = 0; i < 10; i++) await createPod(pod(`b-${i}`, {}, {}, '300m'));
    await waitFor('6 bound and 4 unschedulable', async () => {
      const pods = (await cluster.api<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).body.items;
      const bound = pods.filter((p) => p.spec.nodeName).length;
      const parked = pods.filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'),
      ).length;
      return bound === 6 && parked === 4 ? pods : undefined;
    });
    const pods = (await cluster.api<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).body.items;
    const perNode = new Map<string, number>();
    for (const p of pods)
      if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([3, 3]);
  });

  it('reports its attempts, latency and queues on /metrics as kube-scheduler names them', async () => {
    const text = await (await fetch(`${scheduler.runtime.metricsUrl}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1]);
    const scheduled = value(
      'scheduler_schedule_attempts_total\\{profile="default-scheduler",result="scheduled"\\}',
    );
    expect(scheduled).toBeGreaterThanOrEqual(20);
    expect(
      value('scheduler_schedule_attempts_total\\{profile="default-scheduler",result="unschedulable"\\}'),
    ).toBeGreaterThan(0);
    expect(value('scheduler_pod_scheduling_sli_duration_seconds_count')).toBe(scheduled);
    expect(text).toMatch(/^scheduler_pending_pods\{queue="unschedulable"\} \d+$/m);
    expect(await (await fetch(`${scheduler.runtime.metricsUrl}/healthz`)).text()).toBe('ok');
  });
});
