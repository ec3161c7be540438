import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';

import { type Informer } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type TestWatch, watchForTest } from '@app/testing/test-watch.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { type RunningSimAgent, startSimAgent } from '../../node-agent/src/sim/index.js';
import { type DaemonSet } from '../src/daemonset/daemonset-types.js';
import { type ControllerRevision } from '../src/history/controller-revision.js';
import { type Pod } from '../src/replicaset/pod-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

type DaemonPod = Pod & {
  spec?: Pod['spec'] & {
    tolerations?: { key?: string; operator?: string; effect?: string }[];
    affinity?: unknown;
    containers?: { image: string }[];
  };
};

const HASH = 'controller-revision-hash';
const SIM_NODES = ['sim-node-0', 'sim-node-1', 'sim-node-2', 'sim-node-3'];

const daemonSet = (
  name: string,
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...podSpec },
    },
    ...spec,
  },
});

/**
 * The DaemonSet controller through the real API server, log and bus, with the controller
 * manager, the real scheduler and four simulated nodes (whose pods run and turn Ready by
 * themselves) in this process; DaemonSets are driven and read through the real kubectl.
 */
describe('DaemonSet controller through the real API server, scheduler and simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let extra: RunningSimAgent | undefined;
  let watch: TestWatch<DaemonPod> | undefined;
  /** An independent watch of every pod; each change is told to the current test's observer. */
  let podWatch: Informer<DaemonPod> | undefined;
  let observe: (() => void) | undefined;
  let ns = '';

  const dsPath = (name = '') => `/apis/apps/v1/namespaces/${ns}/daemonsets${name ? `/${name}` : ''}`;
  const kubectl = async (args: string[], input?: string, minor = 33) =>
    cluster.kubectl(minor, ['-n', ns, ...args], { timeoutMs: 120_000, input });
  const kubectlOk = async (args: string[], input?: string, minor = 33) => {
    const r = await kubectl(args, input, minor);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const getDs = (name: string) => cluster.ok<DaemonSet>('GET', dsPath(name));
  const live = (app: string) =>
    podWatch!.cache
      .byIndex('namespace', ns)
      .filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp);
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  /** Node name → the live daemon pods bound there. */
  const byNode = (app: string) => {
    const m = new Map<string, DaemonPod[]>();
    for (const p of live(app)) {
      const node = p.spec?.nodeName ?? '';
      m.set(node, [...(m.get(node) ?? []), p]);
    }
    return m;
  };
  /** Waits until exactly `nodes` each run one ready daemon pod of `app` (and no other node does). */
  const runningOn = (app: string, nodes: string[], check: (p: DaemonPod) => boolean = () => true) =>
    waitFor(`${app} on ${nodes.join(', ')}`, async () => {
      const m = byNode(app);
      const placed = [...m.keys()].sort();
      const fine =
        JSON.stringify(placed) === JSON.stringify([...nodes].sort()) &&
        [...m.values()].every((pods) => pods.length === 1 && ready(pods[0]) && check(pods[0]));
      return fine ? m : undefined;
    });
  const events = async (name: string, reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  const revisions = async (app: string) =>
    (
      await cluster.ok<{ items: ControllerRevision[] }>(
        'GET',
        `/apis/apps/v1/namespaces/${ns}/controllerrevisions?labelSelector=app%3D${app}`,
      )
    ).items;
  const rolledOut = (name: string) => kubectlOk(['rollout', 'status', `daemonset/${name}`, '--timeout=90s']);
  const imageOf = (p: DaemonPod) => p.spec?.containers?.[0]?.image;

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster);
    watch = await watchForTest<DaemonPod>(cluster, { group: '', version: 'v1', plural: 'pods' }, () =>
      observe?.(),
    );
    podWatch = watch.informer;
  });
  afterAll(async () => {
    await Promise.allSettled([watch?.close()]);
    await Promise.allSettled([plane?.close(), extra?.close()]);
    await cluster?.close();
  });

  // Each test starts from four plain nodes, whatever the one before left behind.
  afterEach(async () => {
    observe = undefined;
    await extra?.close();
    extra = undefined;
    for (const name of ['ghost', 'extra-0']) await cluster.api('DELETE', `/api/v1/nodes/${name}`);
    for (const name of SIM_NODES)
      await cluster.mergePatch(`/api/v1/nodes/${name}`, {
        metadata: { labels: { ds: null } },
        spec: { taints: null },
      });
  });

  it('`kubectl apply` puts one pod on each eligible node; nodes joining, leaving and changing labels or taints move it', async () => {
    await fresh('placement');
    // sim-node-3 lacks the label the nodeSelector wants; sim-node-2 has a taint the pod does not tolerate.
    await kubectlOk(['label', 'node', 'sim-node-0', 'sim-node-1', 'sim-node-2', 'ds=yes']);
    await kubectlOk(['taint', 'node', 'sim-node-2', 'dedicated=db:NoSchedule']);
    const manifest = daemonSet('agent', {}, { nodeSelector: { ds: 'yes' } });
    expect(await kubectlOk(['apply', '-f', '-'], JSON.stringify(manifest))).toContain(
      'daemonset.apps/agent created',
    );
    const placed = await runningOn('agent', ['sim-node-0', 'sim-node-1']);
    const created = await getDs('agent');

    // Pinned by node affinity for the scheduler, with the daemon tolerations and the revision's hash.
    const pod = placed.get('sim-node-0')![0];
    expect(pod.spec?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['sim-node-0'] }] },
          ],
        },
      },
    });
    expect(pod.spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    const [rev] = await revisions('agent');
    expect(rev.revision).toBe(1);
    expect(pod.metadata.labels?.[HASH]).toBe(rev.metadata.labels?.[HASH]);
    expect(rev.metadata.name).toBe(`agent-${rev.metadata.labels?.[HASH]}`);
    expect(rev.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'DaemonSet',
        name: 'agent',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);
    // The pod's creation names as its cause the seq of a DaemonSet version reconciled.
    const store = cluster.server.app.get(ClusterConnections).store;
    const [first] = await store.history({
      group: '',
      resource: 'pods',
      namespace: ns,
      name: pod.metadata.name!,
    });
    expect(first.event.verb).toBe('create');
    const dsVersions = (
      await store.history({ group: 'apps', resource: 'daemonsets', namespace: ns, name: 'agent' })
    ).map((h) => h.event.seq);
    expect(dsVersions).toContain(first.event.cause);

    const status = await waitFor('status counted', async () => {
      const ds = await getDs('agent');
      return ds.status?.numberAvailable === 2 && ds.status.observedGeneration === ds.metadata.generation
        ? ds.status
        : undefined;
    });
    expect(status).toMatchObject({
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      numberReady: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
    });
    expect(status.numberUnavailable ?? 0).toBe(0);
    const table = await kubectlOk(['get', 'ds', 'agent']);
    expect(table).toMatch(/NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE/);
    expect(table).toMatch(/agent\s+2\s+2\s+2\s+2\s+2\s+ds=yes\s+\S+/);
    const createdEvents = await waitFor('SuccessfulCreate events', async () => {
      const e = await events('agent', 'SuccessfulCreate');
      return e.length >= 2 ? e : undefined;
    });
    expect(createdEvents[0]).toMatchObject({ source: { component: 'daemonset-controller' } });
    expect(createdEvents.map((e) => e.message).sort()).toEqual(
      [...placed.values()].map(([p]) => `Created pod: ${p.metadata.name}`).sort(),
    );

    // Eligibility follows the nodes: the taint goes, a label comes, a label goes.
    await kubectlOk(['taint', 'node', 'sim-node-2', 'dedicated=db:NoSchedule-']);
    await kubectlOk(['label', 'node', 'sim-node-3', 'ds=yes']);
    await runningOn('agent', ['sim-node-0', 'sim-node-1', 'sim-node-2', 'sim-node-3']);
    await kubectlOk(['label', 'node', 'sim-node-0', 'ds-']);
    await runningOn('agent', ['sim-node-1', 'sim-node-2', 'sim-node-3']);
    await waitFor('SuccessfulDelete event', async () =>
      (await events('agent', 'SuccessfulDelete')).length > 0 ? true : undefined,
    );

    // A NoExecute taint the pod does not tolerate evicts it; a NoSchedule one would not.
    await kubectlOk(['taint', 'node', 'sim-node-1', 'evict=now:NoExecute']);
    await runningOn('agent', ['sim-node-2', 'sim-node-3']);
    await kubectlOk(['taint', 'node', 'sim-node-1', 'evict=now:NoExecute-']);
    await kubectlOk(['taint', 'node', 'sim-node-2', 'keep=out:NoSchedule']);
    await runningOn('agent', ['sim-node-1', 'sim-node-2', 'sim-node-3']);
    const misscheduled = await waitFor('one node misscheduled', async () => {
      const cur = await getDs('agent');
      return cur.status?.numberMisscheduled === 1 ? cur : undefined;
    });
    expect(misscheduled.status?.desiredNumberScheduled).toBe(2);
    expect(misscheduled.status?.currentNumberScheduled).toBe(2);
    await kubectlOk(['taint', 'node', 'sim-node-2', 'keep=out:NoSchedule-']);

    // A node joins (a second simulated agent): it gets its pod.
    extra = await startSimAgent({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      nodes: 1,
      nodeNamePrefix: 'extra',
      leaseRenewMs: 500,
      registration: { labels: { ds: 'yes' } },
    });
    await runningOn('agent', ['sim-node-1', 'sim-node-2', 'sim-node-3', 'extra-0']);

    // A node no scheduler can bind to gets a pod pinned to it, which goes with the node.
    await cluster.ok('POST', '/api/v1/nodes', {
      metadata: { name: 'ghost', labels: { ds: 'yes' } },
      status: { allocatable: { pods: '0', cpu: '0', memory: '0' }, capacity: { pods: '0' } },
    });
    const pinned = await waitFor('a pod pinned to the ghost node', async () =>
      live('agent').find((p) => JSON.stringify(p.spec?.affinity ?? {}).includes('"ghost"')),
    );
    expect(pinned.spec?.nodeName).toBeUndefined();
    await cluster.ok('DELETE', '/api/v1/nodes/ghost');
    await waitFor('the pinned pod deleted', async () =>
      live('agent').some((p) => p.metadata.name === pinned.metadata.name) ? undefined : true,
    );
    const afterGhost = await waitFor('desired back to 4', async () => {
      const ds = await getDs('agent');
      return ds.status?.desiredNumberScheduled === 4 && ds.status.numberAvailable === 4 ? ds : undefined;
    });
    expect(afterGhost.status?.currentNumberScheduled).toBe(4);

    // The extra node leaves: it counts no more (its bound pod is PodGC's to remove).
    await extra.close();
    extra = undefined;
    await cluster.ok('DELETE', '/api/v1/nodes/extra-0');
    await waitFor('desired 3 without the extra node', async () => {
      const ds = await getDs('agent');
      return ds.status?.desiredNumberScheduled === 3 ? ds : undefined;
    });
  });

  it('`kubectl set image` rolls node by node within maxUnavailable 1; `rollout status`, `history` and `undo` work through ControllerRevisions', async () => {
    await fresh('rolling');
    await cluster.ok('POST', dsPath(), daemonSet('log', { minReadySeconds: 0 }));
    await runningOn('log', SIM_NODES);
    expect(await rolledOut('log')).toContain('daemon set "log" successfully rolled out');
    const violations: string[] = [];
    let mixed = false;
    // Nodes without a ready daemon pod that is not being deleted: never more than maxUnavailable.
    observe = () => {
      const m = byNode('log');
      const down = SIM_NODES.filter((n) => !(m.get(n) ?? []).some(ready));
      if (down.length > 1) violations.push(`down: ${down.join(', ')}`);
      const images = new Set(live('log').map(imageOf));
      if (images.size > 1) mixed = true;
    };
    try {
      // A revision takes the DaemonSet's annotations when it is made: the change-cause goes first.
      await kubectlOk(['annotate', 'daemonset/log', 'kubernetes.io/change-cause=image 2']);
      await kubectlOk(['set', 'image', 'daemonset/log', 'c=busybox:2']);
      expect(await rolledOut('log')).toContain('daemon set "log" successfully rolled out');
    } finally {
      observe = undefined;
    }
    expect(violations).toEqual([]);
    expect(mixed).toBe(true);
    await runningOn('log', SIM_NODES, (p) => imageOf(p) === 'busybox:2');
    const ds = await getDs('log');
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 4,
      updatedNumberScheduled: 4,
      numberAvailable: 4,
    });

    const history = await kubectlOk(['rollout', 'history', 'daemonset/log']);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+image 2\n/);
    const second = await kubectlOk(['rollout', 'history', 'daemonset/log', '--revision=2']);
    expect(second).toMatch(/Image:\s+busybox:2/);

    expect(await kubectlOk(['rollout', 'undo', 'daemonset/log'])).toContain('daemonset.apps/log rolled back');
    await rolledOut('log');
    await runningOn('log', SIM_NODES, (p) => imageOf(p) === 'busybox:1');
    const revs = await waitFor('revision 3 for the first template', async () => {
      const all = await revisions('log');
      return all.some((r) => r.revision === 3) ? all : undefined;
    });
    // The first template's revision is renumbered, not duplicated.
    expect(revs.map((r) => r.revision).sort()).toEqual([2, 3]);
    const back = await kubectlOk(['rollout', 'history', 'daemonset/log']);
    expect(back).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+image 2\n3\s+<none>\n/);
    const pods = live('log');
    const hash = revs.find((r) => r.revision === 3)?.metadata.labels?.[HASH];
    expect(pods.map((p) => p.metadata.labels?.[HASH])).toEqual(Array(4).fill(hash));
  });

  it('with maxSurge 1 a new pod comes up beside the old one before it goes: every node stays served', async () => {
    await fresh('surge');
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await cluster.ok('POST', dsPath(), daemonSet('net', { updateStrategy: strategy }));
    await runningOn('net', SIM_NODES);
    const violations: string[] = [];
    let doubled = 0;
    observe = () => {
      const m = byNode('net');
      const down = SIM_NODES.filter((n) => !(m.get(n) ?? []).some(ready));
      if (down.length > 0) violations.push(`down: ${down.join(', ')}`);
      const twice = SIM_NODES.filter((n) => (m.get(n) ?? []).length > 1);
      if (twice.length > 1) violations.push(`two pods on ${twice.join(', ')}`);
      if (twice.length === 1) doubled++;
    };
    try {
      await kubectlOk(['set', 'image', 'daemonset/net', 'c=busybox:2']);
      await rolledOut('net');
      await runningOn('net', SIM_NODES, (p) => imageOf(p) === 'busybox:2');
    } finally {
      observe = undefined;
    }
    expect(violations).toEqual([]);
    expect(doubled).toBeGreaterThan(0);
  });

  it('OnDelete replaces a pod only once it is deleted', async () => {
    await fresh('ondelete');
    await cluster.ok('POST', dsPath(), daemonSet('mon', { updateStrategy: { type: 'OnDelete' } }));
    const before = await runningOn('mon', SIM_NODES);
    await kubectlOk(['set', 'image', 'daemonset/mon', 'c=busybox:2']);
    const observed = await waitFor('new generation observed', async () => {
      const ds = await getDs('mon');
      return ds.status?.observedGeneration === ds.metadata.generation ? ds : undefined;
    });
    expect(observed.status).toMatchObject({ desiredNumberScheduled: 4, updatedNumberScheduled: 0 });
    expect((await revisions('mon')).length).toBe(2);
    const victim = before.get('sim-node-1')![0];
    await kubectlOk(['delete', 'pod', victim.metadata.name!]);
    const after = await waitFor('sim-node-1 replaced with the new template', async () => {
      const m = byNode('mon');
      const [p] = m.get('sim-node-1') ?? [];
      return p && ready(p) && imageOf(p) === 'busybox:2' ? m : undefined;
    });
    for (const node of ['sim-node-0', 'sim-node-2', 'sim-node-3'])
      expect(after.get(node)?.[0].metadata.uid).toBe(before.get(node)?.[0].metadata.uid);
    const ds = await waitFor('one updated', async () => {
      const cur = await getDs('mon');
      return cur.status?.updatedNumberScheduled === 1 && cur.status.numberAvailable === 4 ? cur : undefined;
    });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 4, currentNumberScheduled: 4, numberReady: 4 });
    // rollout status speaks only of RollingUpdate DaemonSets, as upstream's kubectl.
    const status = await kubectl(['rollout', 'status', 'daemonset/mon', '--timeout=5s']);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('rollout status is only available for RollingUpdate strategy type');
  });
  it('a failed daemon pod is reported, deleted and replaced on its node', async () => {
    await fresh('failed');
    await cluster.ok('POST', dsPath(), daemonSet('flaky'));
    const before = await runningOn('flaky', SIM_NODES);
    const victim = before.get('sim-node-2')![0];
    // As the kubelet reports a pod whose containers all ended for good.
    await cluster.mergePatch(`/api/v1/namespaces/${ns}/pods/${victim.metadata.name}/status`, {
      status: { phase: 'Failed' },
    });
    const after = await waitFor('sim-node-2 served by a new pod', async () => {
      const m = byNode('flaky');
      const [p] = m.get('sim-node-2') ?? [];
      return p && p.metadata.uid !== victim.metadata.uid && ready(p) ? m : undefined;
    });
    expect(after.get('sim-node-2')).toHaveLength(1);
    const [failed] = await waitFor('FailedDaemonPod event', async () => {
      const e = await events('flaky', 'FailedDaemonPod');
      return e.length > 0 ? e : undefined;
    });
    expect(failed).toMatchObject({
      type: 'Warning',
      message: `Found failed daemon pod ${ns}/${victim.metadata.name} on node sim-node-2, will try to kill it`,
      source: { component: 'daemonset-controller' },
    });
    await waitFor('the failed pod gone', async () =>
      podWatch!.cache.get(`${ns}/${victim.metadata.name}`) ? undefined : true,
    );
  });
  it('keeps revisionHistoryLimit old revisions, the oldest deleted first', async () => {
    await fresh('history');
    await cluster.ok('POST', dsPath(), daemonSet('lim', { revisionHistoryLimit: 1 }));
    await runningOn('lim', SIM_NODES);
    for (const image of ['busybox:2', 'busybox:3']) {
      await kubectlOk(['set', 'image', 'daemonset/lim', `c=${image}`]);
      await rolledOut('lim');
      await runningOn('lim', SIM_NODES, (p) => imageOf(p) === image);
    }
    const kept = await waitFor('revision 1 deleted', async () => {
      const all = await revisions('lim');
      return all.length === 2 ? all : undefined;
    });
    expect(kept.map((r) => r.revision).sort()).toEqual([2, 3]);
  });
});
