import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiConnection } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type TestWatch, watchForTest } from '@app/testing/test-watch.js';

import { type RunningSimAgent, startSimAgent } from '../../node-agent/src/sim/index.js';
import { type NodeLifecycleSettings } from '../src/node-lifecycle/node-lifecycle-controller.js';
import { type Node } from '../src/node-lifecycle/node-types.js';
import { type Pod } from '../src/replicaset/pod-types.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

type Toleration = { key?: string; operator?: string; effect?: string; tolerationSeconds?: number };

const UNREACHABLE = 'node.kubernetes.io/unreachable';
/** Short timings: checked every 200 ms, silent for 1.5 s is Unknown, taints as fast as asked. */
const FAST: Partial<NodeLifecycleSettings> = {
  monitorPeriodMs: 200,
  gracePeriodMs: 1500,
  startupGracePeriodMs: 3000,
  evictionRate: 100,
};

/**
 * The node lifecycle and taint eviction controllers through the real API server and bus, on
 * simulated nodes: one sim agent per node that is to fail, so closing it silences exactly
 * that node's Lease. Pods are bound by name (no scheduler needed) and run by the sim agents.
 * An independent watch records every version of every pod and node with when it was seen.
 */
describe('node lifecycle and taint eviction on simulated nodes', () => {
  let cluster: ApiCluster;
  let connection: ApiConnection;
  let cm: RunningControllerManager | undefined;
  const agents = new Map<string, RunningSimAgent>();
  let podWatch: TestWatch<Pod> | undefined;
  let nodeWatch: TestWatch<Node> | undefined;
  /** Every version seen, with when: pods by ns/name, nodes by name. */
  const podHistory = new Map<string, { at: number; pod: Pod }[]>();
  const nodeHistory = new Map<string, { at: number; node: Node }[]>();
  let ns = '';

  const kubectlOk = async (args: string[]) => {
    const r = await cluster.kubectl(33, args, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const startCm = async (settings: Partial<NodeLifecycleSettings>) => {
    cm = await startControllerManager({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['node-lifecycle-controller', 'taint-eviction-controller'],
      backoffMs: [50, 1000],
      nodeLifecycle: settings,
    });
  };
  /** A simulated node of its own, `<prefix>-0`, renewing its Lease every 300 ms. */
  const startNode = async (prefix: string, nodes = 1) => {
    const agent = await startSimAgent({
      connection,
      natsUrl: cluster.natsUrl,
      nodes,
      nodeNamePrefix: prefix,
      leaseRenewMs: 300,
    });
    agents.set(prefix, agent);
    return `${prefix}-0`;
  };
  const stopNode = async (prefix: string) => {
    await agents.get(prefix)?.close();
    agents.delete(prefix);
  };
  const pod = (name: string, nodeName: string, tolerations: Toleration[] = []) =>
    cluster.ok<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name },
      spec: { nodeName, tolerations, containers: [{ name: 'c', image: 'busybox:1' }] },
    });
  const getNode = (name: string) => cluster.ok<Node>('GET', `/api/v1/nodes/${name}`);
  const getPod = async (name: string) => {
    const r = await cluster.api<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    return r.status === 404 ? undefined : r.body;
  };
  const condition = (o: { status?: { conditions?: { type: string }[] } }, type: string) =>
    o.status?.conditions?.find((c) => c.type === type) as
      { type: string; status: string; reason?: string; message?: string } | undefined;
  const podReady = (p: Pod | undefined) => p && condition(p, 'Ready')?.status === 'True';
  const waitReady = (names: string[]) =>
    waitFor(`pods ${names.join(', ')} running and ready`, async () =>
      (await Promise.all(names.map(getPod))).every(podReady) ? true : undefined,
    );
  const noExecute = (n: Node | undefined, key = UNREACHABLE) =>
    n?.spec?.taints?.find((t) => t.key === key && t.effect === 'NoExecute');
  /** When the watch first saw the pod marked for deletion (or gone). */
  const deletedAt = (name: string) => {
    const h = podHistory.get(`${ns}/${name}`) ?? [];
    return h.find((v) => v.pod.metadata.deletionTimestamp)?.at;
  };
  const taintedAt = (node: string, key = UNREACHABLE) =>
    (nodeHistory.get(node) ?? []).find((v) => noExecute(v.node, key))?.at;
  const events = async (reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.reason === reason,
    );

  beforeAll(async () => {
    cluster = await startApiCluster();
    connection = cluster.connection;
    podWatch = await watchForTest<Pod>(cluster, { group: '', version: 'v1', plural: 'pods' }, (c) => {
      const key = `${c.object.metadata.namespace}/${c.object.metadata.name}`;
      podHistory.set(key, [...(podHistory.get(key) ?? []), { at: Date.now(), pod: c.object }]);
    });
    nodeWatch = await watchForTest<Node>(cluster, { group: '', version: 'v1', plural: 'nodes' }, (c) => {
      const key = c.object.metadata.name;
      nodeHistory.set(key, [...(nodeHistory.get(key) ?? []), { at: Date.now(), node: c.object }]);
    });
  });

  afterEach(async () => {
    // Every test leaves no node behind: a dead node of one test would count in the next one's disruption.
    await cm?.close();
    cm = undefined;
    const prefixes = [...agents.keys()];
    await Promise.allSettled(prefixes.map(stopNode));
    const nodes = await cluster.ok<{ items: Node[] }>('GET', '/api/v1/nodes');
    await Promise.allSettled(
      nodes.items.map((n) => cluster.ok('DELETE', `/api/v1/nodes/${n.metadata.name}`)),
    );
  });

  afterAll(async () => {
    await Promise.allSettled([cm?.close(), ...[...agents.values()].map((a) => a.close())]);
    await Promise.allSettled([podWatch?.close(), nodeWatch?.close()]);
    await cluster?.close();
  });

  it('evicts pods that do not tolerate a NoExecute taint at once, cancels a timed eviction when the taint goes, and keeps pods tolerating it forever', async () => {
    await fresh('taint-kubectl');
    await startCm(FAST);
    const node = await startNode('te');
    const toleration = (seconds?: number): Toleration => ({
      key: 'example.com/evict',
      operator: 'Exists',
      effect: 'NoExecute',
      ...(seconds === undefined ? {} : { tolerationSeconds: seconds }),
    });
    const plain = await pod('plain', node);
    // DefaultTolerationSeconds admission: 300 s for not-ready and unreachable, as upstream's.
    expect((plain.spec as { tolerations?: Toleration[] }).tolerations).toEqual([
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    await pod('timed', node, [toleration(5)]);
    await pod('forever', node, [toleration()]);
    await waitReady(['plain', 'timed', 'forever']);

    await kubectlOk(['taint', 'nodes', node, 'example.com/evict=yes:NoExecute']);
    await waitFor('plain evicted', () => deletedAt('plain'));
    const plainVersions = podHistory.get(`${ns}/plain`)!.map((v) => v.pod);
    // The DisruptionTarget condition is set before the deletion.
    const marked = plainVersions.findIndex((p) => condition(p, 'DisruptionTarget')?.status === 'True');
    expect(marked).toBeGreaterThanOrEqual(0);
    expect(plainVersions[marked].metadata.deletionTimestamp).toBeUndefined();
    expect(condition(plainVersions[marked], 'DisruptionTarget')).toMatchObject({
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
    });
    const marking = await waitFor('the eviction event', async () => {
      const found = (await events('TaintManagerEviction')).find((e) => e.involvedObject.name === 'plain');
      return found;
    });
    expect(marking).toMatchObject({
      type: 'Normal',
      message: `Marking for deletion Pod ${ns}/plain`,
      source: { component: 'taint-eviction-controller' },
    });

    // The timed pod tolerates 5 s: the taint goes before then, and so does its eviction.
    await kubectlOk(['taint', 'nodes', node, 'example.com/evict-']);
    const cancelled = await waitFor('the cancellation event', async () =>
      (await events('TaintManagerEviction')).find(
        (e) => e.message === `Cancelling deletion of Pod ${ns}/timed`,
      ),
    );
    expect(cancelled.involvedObject).toMatchObject({ kind: 'Pod', name: 'timed' });
    await new Promise((r) => setTimeout(r, 5500));
    expect((await getPod('timed'))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await getPod('forever'))?.metadata.deletionTimestamp).toBeUndefined();
    expect(deletedAt('timed')).toBeUndefined();
  }, 60_000);

  it('turns a silent node Unknown, taints it unreachable, marks its pods NotReady and evicts them after their tolerationSeconds; back, it is Ready and untainted', async () => {
    await fresh('node-lost');
    await startCm(FAST);
    await startNode('keep');
    const lost = await startNode('lost');
    const unreachable = (seconds?: number): Toleration => ({
      key: UNREACHABLE,
      operator: 'Exists',
      effect: 'NoExecute',
      ...(seconds === undefined ? {} : { tolerationSeconds: seconds }),
    });
    await pod('zero', lost, [unreachable(0)]);
    await pod('two', lost, [unreachable(2)]);
    await pod('forever', lost, [unreachable()]);
    await waitReady(['zero', 'two', 'forever']);

    await stopNode('lost');
    const unknown = await waitFor('the node Ready=Unknown', async () => {
      const n = await getNode(lost);
      return condition(n, 'Ready')?.status === 'Unknown' ? n : undefined;
    });
    expect(condition(unknown, 'Ready')).toMatchObject({
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
      expect(condition(unknown, type)).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });

    const tainted = await waitFor('the unreachable taints', async () => {
      const n = await getNode(lost);
      const noSchedule = n.spec?.taints?.some((t) => t.key === UNREACHABLE && t.effect === 'NoSchedule');
      return noExecute(n) && noSchedule ? n : undefined;
    });
    expect(noExecute(tainted)?.timeAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The healthy node stays untainted.
    expect(noExecute(await getNode('keep-0'))).toBeUndefined();

    // Every pod of the lost node was marked NotReady, with an event saying why.
    for (const name of ['zero', 'two', 'forever'])
      expect(
        podHistory.get(`${ns}/${name}`)!.some((v) => condition(v.pod, 'Ready')?.status === 'False'),
      ).toBe(true);
    const notReady = await waitFor('NodeNotReady events', async () => {
      const found = (await events('NodeNotReady')).filter((e) => e.involvedObject.kind === 'Pod');
      return found.length >= 3 ? found : undefined;
    });
    expect(notReady[0]).toMatchObject({ type: 'Warning', message: 'Node is not ready' });

    await waitFor('zero evicted', () => deletedAt('zero'));
    const twoAt = await waitFor('two evicted', () => deletedAt('two'));
    const taintAt = taintedAt(lost)!;
    // Tolerated for 2 s from the taint: not evicted before (a little slack for the watch's delays).
    expect(twoAt - taintAt).toBeGreaterThanOrEqual(1500);
    expect(deletedAt('zero')! - taintAt).toBeLessThan(twoAt - taintAt);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getPod('forever'))?.metadata.deletionTimestamp).toBeUndefined();

    // The node comes back: Ready, and the controller takes its taints off.
    await startNode('lost');
    const back = await waitFor('the node Ready and untainted', async () => {
      const n = await getNode(lost);
      const ready = condition(n, 'Ready')?.status === 'True';
      return ready && !n.spec?.taints?.some((t) => t.key === UNREACHABLE) ? n : undefined;
    });
    expect(condition(back, 'Ready')?.status).toBe('True');
  }, 90_000);

  it('taints nodes that went down together one at a time, at the zone eviction rate', async () => {
    await fresh('rate');
    // 0.5 nodes a second: one taint every 2 s after the first.
    await startCm({ ...FAST, evictionRate: 0.5 });
    await startNode('healthy', 3);
    const lost = await Promise.all(['r1', 'r2', 'r3'].map((p) => startNode(p)));
    await Promise.all(['r1', 'r2', 'r3'].map(stopNode));
    await waitFor(
      'all three unreachable-tainted',
      () => (lost.every((n) => taintedAt(n)) ? true : undefined),
      { timeoutMs: 30_000 },
    );
    const times = lost.map((n) => taintedAt(n)!).sort((a, b) => a - b);
    // 3 of 6 down is under the 0.55 threshold: the zone is Normal and tainting goes on at 0.5/s.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1500);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(1500);
    for (const n of ['healthy-0', 'healthy-1', 'healthy-2']) expect(taintedAt(n)).toBeUndefined();
  }, 60_000);

  it('neither taints nor evicts when every node is down', async () => {
    await fresh('all-down');
    const a = await startNode('down-a');
    const b = await startNode('down-b');
    const zero = (name: string, node: string) =>
      pod(name, node, [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }]);
    await zero('on-a', a);
    await zero('on-b', b);
    await waitReady(['on-a', 'on-b']);
    // Both nodes fall silent together, as when the control plane loses them all (a partition):
    // the controller (started now) hears from neither again.
    await Promise.all([stopNode('down-a'), stopNode('down-b')]);
    await startCm(FAST);
    await waitFor('both nodes Unknown', async () =>
      (await Promise.all([a, b].map(getNode))).every((n) => condition(n, 'Ready')?.status === 'Unknown')
        ? true
        : undefined,
    );
    // Several monitor and tainting periods later: still no NoExecute taint and no eviction.
    await new Promise((r) => setTimeout(r, 3000));
    for (const n of [a, b]) {
      expect(noExecute(await getNode(n))).toBeUndefined();
      expect(taintedAt(n)).toBeUndefined();
    }
    for (const name of ['on-a', 'on-b']) {
      expect((await getPod(name))?.metadata.deletionTimestamp).toBeUndefined();
      expect(deletedAt(name)).toBeUndefined();
    }
    // The NoSchedule condition taint still follows the Ready condition: new pods stay away.
    expect((await getNode(a)).spec?.taints).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: UNREACHABLE, effect: 'NoSchedule' })]),
    );
  }, 60_000);
});
