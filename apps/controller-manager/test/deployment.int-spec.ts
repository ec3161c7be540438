import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Informer } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';
import { type TestWatch, watchForTest } from '@app/testing/test-watch.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { type Deployment, type ReplicaSet } from '../src/deployment/deployment-types.js';
import { type Pod } from '../src/replicaset/pod-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

const deployment = (
  name: string,
  replicas: number,
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...podSpec },
    },
    ...spec,
  },
});

/**
 * The Deployment controller through the real API server, log and bus, with the whole chain
 * running in this process: the controller manager (deployment, replicaset and garbage
 * collector), the real scheduler and simulated nodes, whose pods go Running and Ready by
 * themselves. Rollouts are driven and read through the real kubectl.
 */
describe('Deployment controller through the real API server, scheduler and simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let podW: TestWatch<Pod> | undefined;
  let rsW: TestWatch<ReplicaSet> | undefined;
  /** Independent watches of every pod and ReplicaSet; each change is told to the current test's observer. */
  let podWatch: Informer<Pod> | undefined;
  let rsWatch: Informer<ReplicaSet> | undefined;
  let observe: (() => void) | undefined;
  let ns = '';

  const dPath = (name = '') => `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ''}`;
  const rsPath = () => `/apis/apps/v1/namespaces/${ns}/replicasets`;
  const kubectl = async (args: string[], minor = 33, timeoutMs = 60_000) =>
    cluster.kubectl(minor, ['-n', ns, ...args], { timeoutMs });
  const kubectlOk = async (args: string[], minor = 33) => {
    const r = await kubectl(args, minor);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const getD = (name: string) => cluster.ok<Deployment>('GET', dPath(name));
  const sets = async (app: string) =>
    (await cluster.ok<{ items: ReplicaSet[] }>('GET', `${rsPath()}?labelSelector=app%3D${app}`)).items;
  const byRevision = async (app: string) =>
    new Map((await sets(app)).map((rs) => [Number(rs.metadata.annotations?.[REVISION]), rs]));
  const events = async (name: string, reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  /** Waits for ScalingReplicaSet events matching each of `wanted` (recorded asynchronously). */
  const scalingEvents = (name: string, wanted: (string | RegExp)[]) =>
    waitFor(`ScalingReplicaSet events of ${name}`, async () => {
      const messages = (await events(name, 'ScalingReplicaSet')).map((e) => e.message);
      return wanted.every((w) => messages.some((m) => (typeof w === 'string' ? m === w : w.test(m))))
        ? messages
        : undefined;
    });
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const rolledOut = (name: string, minor = 33) =>
    kubectlOk(['rollout', 'status', `deployment/${name}`, '--timeout=90s'], minor);
  const condition = (d: Deployment, type: string) => d.status?.conditions?.find((c) => c.type === type);
  const podsOf = (all: Pod[], app: string) =>
    all.filter((p) => p.metadata.namespace === ns && p.metadata.labels?.app === app);
  const live = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster);
    [podW, rsW] = await Promise.all([
      watchForTest<Pod>(cluster, { group: '', version: 'v1', plural: 'pods' }, () => observe?.()),
      watchForTest<ReplicaSet>(cluster, { group: 'apps', version: 'v1', plural: 'replicasets' }, () =>
        observe?.(),
      ),
    ]);
    podWatch = podW.informer;
    rsWatch = rsW.informer;
  });
  afterAll(async () => {
    await Promise.allSettled([podW?.close(), rsW?.close()]);
    await plane?.close();
    await cluster?.close();
  });

  it('creates a ReplicaSet named by the template hash, revision 1, with status, conditions, events and the Deployment as cause', async () => {
    await fresh('create');
    const created = await cluster.ok<Deployment>('POST', dPath(), deployment('web', 3));
    expect(await rolledOut('web')).toContain('deployment "web" successfully rolled out');
    const [rs] = await sets('web');
    const hash = rs.metadata.labels?.[HASH];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.spec?.selector).toEqual({ matchLabels: { app: 'web', [HASH]: hash } });
    expect(rs.spec?.template?.metadata?.labels).toEqual({ app: 'web', [HASH]: hash });
    expect(rs.metadata.annotations).toMatchObject({
      [REVISION]: '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    expect(rs.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'web',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);
    const d = await waitFor('status complete', async () => {
      const cur = await getD('web');
      return condition(cur, 'Progressing')?.reason === 'NewReplicaSetAvailable' ? cur : undefined;
    });
    expect(d.metadata.annotations?.[REVISION]).toBe('1');
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
    });
    expect(condition(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(condition(d, 'Progressing')).toMatchObject({
      status: 'True',
      message: `ReplicaSet "${rs.metadata.name}" has successfully progressed.`,
    });
    const pods = live(podsOf(podWatch!.cache.list(), 'web'));
    expect(pods.map((p) => p.metadata.labels?.[HASH])).toEqual([hash, hash, hash]);

    // The ReplicaSet's creation names as its cause the seq of the Deployment version reconciled: its creation.
    const store = cluster.server.app.get(ClusterConnections).store;
    const [first] = await store.history({
      group: 'apps',
      resource: 'replicasets',
      namespace: ns,
      name: rs.metadata.name!,
    });
    expect(first.event.verb).toBe('create');
    expect(first.event.cause).toBe(Number(created.metadata.resourceVersion));

    const scaled = await events('web', 'ScalingReplicaSet');
    expect(scaled[0]).toMatchObject({
      type: 'Normal',
      message: `Scaled up replica set ${rs.metadata.name} from 0 to 3`,
      source: { component: 'deployment-controller' },
    });
    const described = await kubectlOk(['describe', 'deployment', 'web']);
    expect(described).toMatch(
      new RegExp(
        `Normal\\s+ScalingReplicaSet\\s+.*deployment-controller\\s+Scaled up replica set ${rs.metadata.name} from 0 to 3`,
      ),
    );
    expect(described).toMatch(/NewReplicaSet:\s+web-\w+ \(3\/3 replicas created\)/);
  });

  it('rolls out `kubectl set image` within maxSurge and maxUnavailable at every observed moment; history lists the revisions with their change-cause', async () => {
    await fresh('rolling');
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };
    await cluster.ok('POST', dPath(), deployment('app', 4, { strategy }));
    await rolledOut('app');

    const [first] = await sets('app');
    const oldHash = first.metadata.labels?.[HASH];
    let mixed = 0;
    const violations: string[] = [];
    // Upstream's guarantee is on the ReplicaSets' sizes: their spec.replicas never sum above
    // replicas+maxSurge, nor their available pods below replicas−maxUnavailable. The pods
    // follow through the ReplicaSet controller, which may create a new set's pod a moment
    // before it has deleted the old set's surplus: pods above their set's size are that
    // surplus, being removed, and are the only ones allowed past the bound.
    observe = () => {
      const rss = rsWatch!.cache.list().filter((rs) => rs.metadata.namespace === ns);
      const pods = live(podsOf(podWatch!.cache.list(), 'app'));
      const specTotal = rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      const availableTotal = rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
      const surplus = rss.reduce((n, rs) => {
        const own = pods.filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === rs.metadata.uid));
        return n + Math.max(0, own.length - (rs.spec?.replicas ?? 0));
      }, 0);
      const available = pods.filter(ready).length;
      if (specTotal > 5) violations.push(`ReplicaSets sized ${specTotal} in all`);
      if (availableTotal < 3) violations.push(`ReplicaSets report ${availableTotal} available`);
      if (pods.length > 5 + surplus) violations.push(`${pods.length} pods, ${surplus} of them surplus`);
      if (available < 3) violations.push(`${available} pods available`);
      const hashes = new Set(pods.map((p) => p.metadata.labels?.[HASH] === oldHash));
      if (hashes.size === 2) mixed++;
    };
    try {
      await kubectlOk(['set', 'image', 'deployment/app', 'c=busybox:2']);
      // Copied to the new ReplicaSet only: the Deployment's annotations go to its current set.
      await kubectlOk(['annotate', 'deployment/app', 'kubernetes.io/change-cause=image 2']);
      expect(await rolledOut('app')).toContain('deployment "app" successfully rolled out');
    } finally {
      observe = undefined;
    }
    expect(violations).toEqual([]);
    // Rolling: old and new pods ran side by side (not one set replaced wholesale).
    expect(mixed).toBeGreaterThan(0);

    const revisions = await byRevision('app');
    expect([...revisions.keys()].sort()).toEqual([1, 2]);
    expect(revisions.get(1)?.spec?.replicas).toBe(0);
    expect(revisions.get(2)?.spec?.replicas).toBe(4);
    expect(revisions.get(2)?.metadata.annotations?.['kubernetes.io/change-cause']).toBe('image 2');
    const pods = live(podsOf(podWatch!.cache.list(), 'app'));
    expect(pods.map((p) => p.metadata.labels?.[HASH])).toEqual(
      Array(4).fill(revisions.get(2)?.metadata.labels?.[HASH]),
    );
    const history = await kubectlOk(['rollout', 'history', 'deployment/app']);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+image 2\n/);
    const d = await getD('app');
    expect(d.metadata.annotations?.[REVISION]).toBe('2');
    await scalingEvents('app', [
      `Scaled up replica set ${revisions.get(2)?.metadata.name} from 0 to 1`,
      new RegExp(`^Scaled down replica set ${revisions.get(1)?.metadata.name} from 4 to [0-3]$`),
      new RegExp(`^Scaled down replica set ${revisions.get(1)?.metadata.name} from [1-4] to 0$`),
    ]);
  });

  it('`kubectl rollout undo` (1.29) and `--to-revision` bring an old template back and make its ReplicaSet the newest revision', async () => {
    await fresh('undo');
    await cluster.ok('POST', dPath(), deployment('api', 2));
    await rolledOut('api', 29);
    await kubectlOk(['set', 'image', 'deployment/api', 'c=busybox:2'], 29);
    await rolledOut('api', 29);
    const before = await byRevision('api');
    const [rs1, rs2] = [before.get(1)!, before.get(2)!];

    expect(await kubectlOk(['rollout', 'undo', 'deployment/api'], 29)).toContain(
      'deployment.apps/api rolled back',
    );
    await rolledOut('api', 29);
    let after = await waitFor('revision 3 on the first set', async () => {
      const m = await byRevision('api');
      return m.get(3) ? m : undefined;
    });
    expect(after.size).toBe(2);
    expect(after.get(3)?.metadata.uid).toBe(rs1.metadata.uid);
    expect(after.get(3)?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(after.get(3)?.spec?.replicas).toBe(2);
    expect(after.get(2)?.spec?.replicas).toBe(0);
    const d = await getD('api');
    expect((d.spec?.template?.spec as { containers: { image: string }[] }).containers[0].image).toBe(
      'busybox:1',
    );
    expect(d.metadata.annotations?.[REVISION]).toBe('3');

    await kubectlOk(['rollout', 'undo', 'deployment/api', '--to-revision=2']);
    await rolledOut('api');
    after = await waitFor('revision 4 on the second set', async () => {
      const m = await byRevision('api');
      return m.get(4) ? m : undefined;
    });
    expect(after.get(4)?.metadata.uid).toBe(rs2.metadata.uid);
    expect(after.get(4)?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('2');
    const history = await kubectlOk(['rollout', 'history', 'deployment/api']);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n3\s+<none>\n4\s+<none>\n/);
    const third = await kubectlOk(['rollout', 'history', 'deployment/api', '--revision=3']);
    expect(third).toContain('deployment.apps/api with revision #3');
    expect(third).toMatch(new RegExp(`pod-template-hash=${rs1.metadata.labels?.[HASH]}`));
    expect(third).toMatch(/Image:\s+busybox:1/);
  });

  it('`kubectl rollout pause` freezes the template, `resume` rolls it out, `restart` rolls again', async () => {
    await fresh('pause');
    await cluster.ok('POST', dPath(), deployment('svc', 2));
    await rolledOut('svc');
    await kubectlOk(['rollout', 'pause', 'deployment/svc']);
    await kubectlOk(['set', 'image', 'deployment/svc', 'c=busybox:2']);
    const paused = await waitFor('paused and observed', async () => {
      const d = await getD('svc');
      return d.status?.observedGeneration === d.metadata.generation &&
        condition(d, 'Progressing')?.reason === 'DeploymentPaused'
        ? d
        : undefined;
    });
    expect(condition(paused, 'Progressing')).toMatchObject({
      status: 'Unknown',
      message: 'Deployment is paused',
    });
    // Observed at the new generation, and still one ReplicaSet: the template change did not roll.
    expect((await sets('svc')).length).toBe(1);
    expect(paused.status?.updatedReplicas).toBe(0);

    await kubectlOk(['rollout', 'resume', 'deployment/svc']);
    await rolledOut('svc');
    const resumed = await byRevision('svc');
    expect(resumed.size).toBe(2);
    expect(resumed.get(2)?.spec?.replicas).toBe(2);

    await kubectlOk(['rollout', 'restart', 'deployment/svc']);
    await rolledOut('svc');
    const restarted = await byRevision('svc');
    expect(restarted.size).toBe(3);
    expect(
      restarted.get(3)?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
    ).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(restarted.get(3)?.spec?.replicas).toBe(2);
  });

  it('Recreate deletes every old pod before the first new one exists', async () => {
    await fresh('recreate');
    await cluster.ok('POST', dPath(), deployment('db', 3, { strategy: { type: 'Recreate' } }));
    await rolledOut('db');
    const [old] = await sets('db');
    const oldHash = old.metadata.labels?.[HASH];
    const overlaps: string[] = [];
    let sawNew = false;
    observe = () => {
      const pods = podsOf(podWatch!.cache.list(), 'db');
      const oldPods = pods.filter((p) => p.metadata.labels?.[HASH] === oldHash);
      const newPods = pods.filter((p) => p.metadata.labels?.[HASH] !== oldHash);
      if (newPods.length > 0) sawNew = true;
      if (oldPods.length > 0 && newPods.length > 0)
        overlaps.push(`${oldPods.length} old, ${newPods.length} new`);
    };
    try {
      await kubectlOk(['set', 'image', 'deployment/db', 'c=busybox:2']);
      await rolledOut('db');
    } finally {
      observe = undefined;
    }
    expect(sawNew).toBe(true);
    expect(overlaps).toEqual([]);
    const revisions = await byRevision('db');
    expect(revisions.get(1)?.spec?.replicas).toBe(0);
    expect(revisions.get(2)?.spec?.replicas).toBe(3);
  });

  it('revisionHistoryLimit deletes the oldest scaled-down ReplicaSets', async () => {
    await fresh('history');
    await cluster.ok('POST', dPath(), deployment('job', 1, { revisionHistoryLimit: 1 }));
    await rolledOut('job');
    for (const image of ['busybox:2', 'busybox:3']) {
      await kubectlOk(['set', 'image', 'deployment/job', `c=${image}`]);
      await rolledOut('job');
    }
    const left = await waitFor('two sets left', async () => {
      const m = await byRevision('job');
      return m.size === 2 ? m : undefined;
    });
    expect([...left.keys()].sort()).toEqual([2, 3]);
  });

  it('adopts a matching orphan ReplicaSet as its new set, and its ReplicaSets and pods go with it when deleted', async () => {
    await fresh('adopt');
    const spec = deployment('web', 3).spec;
    const orphan = await cluster.ok<ReplicaSet>('POST', rsPath(), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-orphan', labels: { app: 'web' } },
      spec: { replicas: 2, selector: spec.selector, template: spec.template },
    });
    const d = await cluster.ok<Deployment>('POST', dPath(), deployment('web', 3));
    expect(await rolledOut('web')).toContain('successfully rolled out');
    const [adopted, ...others] = await sets('web');
    expect(others).toEqual([]);
    expect(adopted.metadata.uid).toBe(orphan.metadata.uid);
    expect(adopted.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Deployment', uid: d.metadata.uid, controller: true }),
    ]);
    expect(adopted.metadata.annotations?.[REVISION]).toBe('1');
    expect(adopted.spec?.replicas).toBe(3);
    await scalingEvents('web', ['Scaled up replica set web-orphan from 2 to 3']);

    await kubectlOk(['delete', 'deployment', 'web']);
    await waitFor('ReplicaSets and pods collected', async () =>
      (await sets('web')).length === 0 && podsOf(podWatch!.cache.list(), 'web').length === 0
        ? true
        : undefined,
    );
  });

  it('a stuck rollout exceeds its progress deadline, and a resize mid-rollout is spread proportionally', async () => {
    await fresh('stuck');
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
    await cluster.ok('POST', dPath(), deployment('web', 10, { strategy, progressDeadlineSeconds: 3 }));
    await rolledOut('web');
    // No node has this label: the new pods stay Pending and never become available.
    await cluster.mergePatch(dPath('web'), {
      spec: { template: { spec: { nodeSelector: { disk: 'none' } } } },
    });
    const failed = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('error: deployment "web" exceeded its progress deadline');
    const timedOut = await getD('web');
    expect(condition(timedOut, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    expect(condition(timedOut, 'Progressing')?.message).toMatch(
      /^ReplicaSet "web-\w+" has timed out progressing\.$/,
    );

    // rolling_test: 13 pods at most, 8 available at least, 5 new unavailable → old 8, new 5.
    const stuck = await waitFor('old 8, new 5', async () => {
      const m = await byRevision('web');
      return m.get(1)?.spec?.replicas === 8 && m.get(2)?.spec?.replicas === 5 ? m : undefined;
    });
    const [oldName, newName] = [stuck.get(1)!.metadata.name, stuck.get(2)!.metadata.name];

    // sync_test "proportional scaling": 10→20 with maxSurge 3 gives 23 in all, 10 more:
    // old 8·23/13 = 14.2 → 14 (+6), new 5·23/13 = 8.8 → 9 (+4).
    await kubectlOk(['scale', 'deployment/web', '--replicas=20']);
    const scaled = await waitFor('old 14, new 9', async () => {
      const m = await byRevision('web');
      return m.get(1)?.spec?.replicas === 14 && m.get(2)?.spec?.replicas === 9 ? m : undefined;
    });
    for (const rs of scaled.values())
      expect(rs.metadata.annotations).toMatchObject({
        'deployment.kubernetes.io/desired-replicas': '20',
        'deployment.kubernetes.io/max-replicas': '23',
      });
    await scalingEvents('web', [
      `Scaled up replica set ${oldName} from 8 to 14`,
      `Scaled up replica set ${newName} from 5 to 9`,
    ]);
    const d = await waitFor('23 pods, the 14 old ones available', async () => {
      const cur = await getD('web');
      return cur.status?.observedGeneration === cur.metadata.generation &&
        cur.status?.replicas === 23 &&
        cur.status.availableReplicas === 14
        ? cur
        : undefined;
    });
    expect(d.status).toMatchObject({ updatedReplicas: 9, availableReplicas: 14, unavailableReplicas: 9 });
    expect(condition(d, 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
  });
});
