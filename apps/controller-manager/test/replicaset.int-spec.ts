import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { connect } from '@nats-io/transport-node';

import { ApiClient, byNamespace, EventRecorder, Informer } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { type ControllerManagerConfig } from '../src/controller-manager.module.js';
import { type Pod } from '../src/replicaset/pod-types.js';
import { ReplicaController } from '../src/replicaset/replica-controller.js';
import { REPLICA_SET, type ReplicaOwner } from '../src/replicaset/replica-kind.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    ownerReferences?: OwnerRef[];
    deletionTimestamp?: string;
  };
  spec?: { nodeName?: string; replicas?: number };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    fullyLabeledReplicas?: number;
    observedGeneration?: number;
  };
}
interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  count: number;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const template = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const replicaSet = (name: string, replicas: number, labels: Record<string, string>, minReadySeconds = 0) => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name },
  spec: { replicas, minReadySeconds, selector: { matchLabels: labels }, template: template(labels) },
});

describe('ReplicaSet and ReplicationController controller through the real API server, log and bus', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  /** Create-batch sizes per owner key, as the running controller manager(s) reported them. */
  const batches = new Map<string, number[]>();
  let ns = '';

  const start = (o: Partial<ControllerManagerConfig> = {}, seen = batches) =>
    startControllerManager({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      backoffMs: [50, 1000],
      onCreateBatch: (_c, key, size) => seen.set(key, [...(seen.get(key) ?? []), size]),
      ...o,
    });
  const rsPath = (name = '') => `/apis/apps/v1/namespaces/${ns}/replicasets${name ? `/${name}` : ''}`;
  const podsPath = (name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;
  const pods = async (selector: string) =>
    (
      await cluster.ok<{ items: Obj[] }>('GET', `${podsPath()}?labelSelector=${encodeURIComponent(selector)}`)
    ).items.filter((p) => !p.metadata.deletionTimestamp);
  const podCount = (selector: string, n: number) =>
    waitFor(`${n} pods with ${selector}`, async () => {
      const list = await pods(selector);
      return list.length === n ? list : undefined;
    });
  const events = async (name: string, reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  /** Marks a pod bound and Running/Ready since `since`, as the scheduler and the node agent would. */
  const runReady = async (name: string, since = new Date()) => {
    await cluster.ok('POST', `${podsPath(name)}/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: 'n1' },
    });
    const pod = await cluster.ok<Obj & { status: Record<string, unknown> }>('GET', podsPath(name));
    const at = since.toISOString().replace(/\.\d+Z$/, 'Z');
    await cluster.ok('PUT', `${podsPath(name)}/status`, {
      ...pod,
      status: {
        ...pod.status,
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
          { type: 'Ready', status: 'True', lastTransitionTime: at },
        ],
      },
    });
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    cm = await start();
  });
  afterAll(async () => {
    await cm?.close();
    await cluster?.close();
  });

  it('scales up in slow-start batches, with controller ownerReferences, Events and the RS version as cause', async () => {
    await fresh('up');
    const rs = await cluster.ok<Obj>('POST', rsPath(), replicaSet('web', 5, { app: 'web' }));
    const created = await podCount('app=web', 5);
    expect(batches.get('up/web')).toEqual([1, 2, 2]);
    for (const p of created) {
      expect(p.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web',
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const status = await waitFor('status.replicas 5', async () => {
      const cur = await cluster.ok<Obj>('GET', rsPath('web'));
      return cur.status?.replicas === 5 && cur.status.observedGeneration === 1 ? cur.status : undefined;
    });
    expect(status).toMatchObject({ fullyLabeledReplicas: 5, readyReplicas: 0, availableReplicas: 0 });
    const creates = await waitFor('5 SuccessfulCreate events', async () => {
      const e = await events('web', 'SuccessfulCreate');
      return e.length === 5 ? e : undefined;
    });
    expect(creates.map((e) => e.message).sort()).toEqual(
      created.map((p) => `Created pod: ${p.metadata.name}`).sort(),
    );
    expect(creates[0]).toMatchObject({
      type: 'Normal',
      count: 1,
      involvedObject: { kind: 'ReplicaSet' },
      source: { component: 'replicaset-controller' },
    });

    // Each pod's creation in the log names as its cause the seq of the ReplicaSet version reconciled: its creation.
    const store = cluster.server.app.get(ClusterConnections).store;
    for (const p of created) {
      const [first] = await store.history({
        group: '',
        resource: 'pods',
        namespace: ns,
        name: p.metadata.name,
      });
      expect(first.event.verb).toBe('create');
      expect(first.event.cause).toBe(Number(rs.metadata.resourceVersion));
    }
    const described = await cluster.kubectl(33, ['-n', ns, 'describe', 'rs', 'web']);
    expect(described.stdout).toMatch(
      /Normal\s+SuccessfulCreate\s+.*replicaset-controller\s+Created pod: web-/,
    );
  });

  it('scales down deleting unscheduled pods before running ones, and counts ready and available pods', async () => {
    await fresh('down');
    await cluster.ok('POST', rsPath(), replicaSet('api', 4, { app: 'api' }, 3600));
    const created = await podCount('app=api', 4);
    const kept = created.slice(0, 2).map((p) => p.metadata.name);
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    await runReady(kept[0], longAgo);
    await runReady(kept[1]);
    await waitFor('ready 2, available 1 (minReadySeconds 3600)', async () => {
      const s = (await cluster.ok<Obj>('GET', rsPath('api'))).status;
      return s?.readyReplicas === 2 && s.availableReplicas === 1 ? s : undefined;
    });
    await cluster.mergePatch(rsPath('api'), { spec: { replicas: 2 } });
    const left = await podCount('app=api', 2);
    expect(left.map((p) => p.metadata.name).sort()).toEqual([...kept].sort());
    const deletes = await waitFor('2 SuccessfulDelete events', async () => {
      const e = await events('api', 'SuccessfulDelete');
      return e.length === 2 ? e : undefined;
    });
    const gone = created.slice(2).map((p) => `Deleted pod: ${p.metadata.name}`);
    expect(deletes.map((e) => e.message).sort()).toEqual(gone.sort());
    await waitFor('status after scale-down', async () => {
      const cur = await cluster.ok<Obj>('GET', rsPath('api'));
      return cur.status?.replicas === 2 && cur.status.observedGeneration === cur.metadata.generation
        ? true
        : undefined;
    });
  });

  it('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    await fresh('adopt');
    const orphan = await cluster.ok<Obj>('POST', podsPath(), {
      metadata: { name: 'orphan', labels: { app: 'db' } },
      spec: template({}).spec,
    });
    const rs = await cluster.ok<Obj>('POST', rsPath(), replicaSet('db', 2, { app: 'db' }));
    const owned = await podCount('app=db', 2);
    const adopted = owned.find((p) => p.metadata.name === 'orphan');
    expect(adopted?.metadata.uid).toBe(orphan.metadata.uid);
    await waitFor('orphan adopted', async () => {
      const p = await cluster.ok<Obj>('GET', podsPath('orphan'));
      return p.metadata.ownerReferences?.some((r) => r.uid === rs.metadata.uid && r.controller)
        ? true
        : undefined;
    });
    expect(batches.get('adopt/db')).toEqual([1]);

    await cluster.mergePatch(podsPath('orphan'), { metadata: { labels: { app: 'other' } } });
    await waitFor('orphan released', async () => {
      const p = await cluster.ok<Obj>('GET', podsPath('orphan'));
      return (p.metadata.ownerReferences ?? []).length === 0 ? true : undefined;
    });
    const replaced = await podCount('app=db', 2);
    expect(replaced.map((p) => p.metadata.name)).not.toContain('orphan');
  });

  it('never double-creates under a burst of ReplicaSet updates (expectations)', async () => {
    await fresh('burst');
    await cluster.ok('POST', rsPath(), replicaSet('b', 3, { app: 'b' }));
    // Twenty writes in a row, not waiting for the controller: each is a new RS version to sync
    // while the pods the first sync created are still on their way through the bus.
    for (let i = 0; i < 20; i++)
      await cluster.mergePatch(rsPath('b'), { metadata: { annotations: { [`burst-${i}`]: 'x' } } });
    // A spec change after the burst: once its generation is observed, every sync of the burst is done.
    const last = await cluster.mergePatch<Obj>(rsPath('b'), { spec: { minReadySeconds: 1 } });
    await waitFor('the last generation observed', async () => {
      const s = (await cluster.ok<Obj>('GET', rsPath('b'))).status;
      return s?.observedGeneration === last.metadata.generation && s?.replicas === 3 ? true : undefined;
    });
    expect(await pods('app=b')).toHaveLength(3);
    expect((batches.get('burst/b') ?? []).reduce((a, b) => a + b, 0)).toBe(3);
    expect(await events('b', 'SuccessfulCreate')).toHaveLength(3);
  });

  it('follows kubectl scale rs (kubectl 1.33)', async () => {
    await fresh('kubectl');
    await cluster.ok('POST', rsPath(), replicaSet('k', 1, { app: 'k' }));
    await podCount('app=k', 1);
    const r = await cluster.kubectl(33, ['-n', ns, 'scale', 'rs', 'k', '--replicas=3']);
    expect(r.stdout).toContain('replicaset.apps/k scaled');
    await podCount('app=k', 3);
    const table = await waitFor('kubectl get rs shows 3 current', async () => {
      const out = (await cluster.kubectl(33, ['-n', ns, 'get', 'rs', 'k', '--no-headers'])).stdout;
      return /^k\s+3\s+3\s+0\s/.test(out) ? out : undefined;
    });
    expect(table).toMatch(/^k\s+3\s+3\s+0/);
  });

  it('with the garbage collector beside it: kubectl delete rs removes its pods (background cascade)', async () => {
    await fresh('cascade');
    await cluster.ok('POST', rsPath(), replicaSet('gone', 2, { app: 'gone' }));
    await podCount('app=gone', 2);
    const r = await cluster.kubectl(33, ['-n', ns, 'delete', 'rs', 'gone']);
    expect(r.stdout).toContain('replicaset.apps "gone" deleted');
    await waitFor('the ReplicaSet’s pods to be gone', async () => {
      const all = await cluster.ok<{ items: Obj[] }>('GET', `${podsPath()}?labelSelector=app%3Dgone`);
      return all.items.length === 0 ? true : undefined;
    });
  });

  it('runs ReplicationControllers the same way', async () => {
    await fresh('rc');
    const rc = await cluster.ok<Obj>('POST', `/api/v1/namespaces/${ns}/replicationcontrollers`, {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'legacy' },
      spec: { replicas: 2, selector: { app: 'legacy' }, template: template({ app: 'legacy' }) },
    });
    const created = await podCount('app=legacy', 2);
    for (const p of created)
      expect(p.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'v1',
          kind: 'ReplicationController',
          name: 'legacy',
          uid: rc.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    await waitFor('RC status.replicas 2', async () => {
      const s = (await cluster.ok<Obj>('GET', `/api/v1/namespaces/${ns}/replicationcontrollers/legacy`))
        .status;
      return s?.replicas === 2 ? s : undefined;
    });
    const e = await waitFor('RC SuccessfulCreate events', async () => {
      const list = await events('legacy', 'SuccessfulCreate');
      return list.length === 2 ? list : undefined;
    });
    expect(e[0]).toMatchObject({
      involvedObject: { kind: 'ReplicationController' },
      source: { component: 'replication-controller' },
    });
    await cluster.mergePatch(`/api/v1/namespaces/${ns}/replicationcontrollers/legacy`, {
      spec: { replicas: 1 },
    });
    await podCount('app=legacy', 1);
  });

  it('with leader election, a second replica does not act while the first leads, and takes over after; /metrics says who leads and what the queues did', async () => {
    await cm?.close();
    cm = undefined;
    await fresh('leader');
    // Both replicas share this process's event loop: the second one's start must not cost the first its lease.
    const timings = { leaderElect: true, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 };
    const first = new Map<string, number[]>();
    const second = new Map<string, number[]>();
    const a = await start({ ...timings, identity: 'cm-a' }, first);
    try {
      await waitFor('cm-a leads', () => (a.runtime.leading ? true : undefined));
      const b = await start({ ...timings, identity: 'cm-b', metricsPort: 0 }, second);
      const scrape = async () => (await fetch(`${b.runtime.metricsUrl}/metrics`)).text();
      try {
        await cluster.ok('POST', rsPath(), replicaSet('l', 2, { app: 'l' }));
        await podCount('app=l', 2);
        expect(first.get('leader/l')).toEqual([1, 1]);
        expect(b.runtime.leading).toBe(false);
        expect(await scrape()).toContain('leader_election_master_status{name="kube-controller-manager"} 0');
        expect(await (await fetch(`${b.runtime.metricsUrl}/healthz`)).text()).toBe('ok');
        await a.close();
        await waitFor('cm-b leads', () => (b.runtime.leading ? true : undefined));
        await cluster.mergePatch(rsPath('l'), { spec: { replicas: 3 } });
        await podCount('app=l', 3);
        expect(second.get('leader/l')).toEqual([1]);
        const text = await scrape();
        expect(text).toContain('leader_election_master_status{name="kube-controller-manager"} 1');
        expect(Number(/^workqueue_adds_total\{name="replicaset"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(
          0,
        );
        expect(text).toMatch(/^workqueue_work_duration_seconds_count\{name="replicaset"\} [1-9]\d*$/m);
        expect(text).toContain('workqueue_depth{name="garbage_collector_attempt_to_delete"}');
      } finally {
        await b.close();
      }
    } finally {
      await a.close().catch(() => undefined);
    }
  });

  it('does not create again from a stale pod cache until it has seen its own creates (expectations)', async () => {
    // Last, after the leader-election test closed the shared manager: only this test's controller acts here.
    await fresh('stale');
    await cluster.ok('POST', rsPath(), replicaSet('s', 3, { app: 's' }));
    // A controller of its own whose pods informer has not started: the stalest cache there is.
    const api = new ApiClient(cluster.connection, { userAgent: 'stale-test' });
    const nats = await connect({ servers: cluster.natsUrl });
    const common = { api, nats, indexers: { namespace: byNamespace } };
    const owners = new Informer<ReplicaOwner>({ ...common, resource: REPLICA_SET.resource });
    const podInformer = new Informer<Pod>({
      ...common,
      resource: { group: '', version: 'v1', plural: 'pods' },
    });
    const events = new EventRecorder(api, { component: 'replicaset-controller', instance: 'stale-test' });
    const controller = new ReplicaController({ kind: REPLICA_SET, api, owners, pods: podInformer, events });
    try {
      await owners.start().synced();
      await waitFor('the RS in the cache', () => owners.cache.get('stale/s'));
      await controller.sync('stale/s');
      await controller.sync('stale/s');
      expect((await pods('app=s')).map((p) => p.metadata.name)).toHaveLength(3);
      expect(controller.expectations.pending('stale/s')).toEqual({ add: 3, del: 0 });
      // Once the informer shows the three creates, the expectations are met and a sync is a no-op.
      await podInformer.start().synced();
      await waitFor('creations observed', () =>
        controller.expectations.satisfied('stale/s') ? true : undefined,
      );
      await controller.sync('stale/s');
      expect((await pods('app=s')).map((p) => p.metadata.name)).toHaveLength(3);
    } finally {
      await controller.stop();
      await Promise.all([owners.stop(), podInformer.stop()]);
      await events.flush();
      api.close();
      await nats.close();
    }
  });
});
