import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type CensusPod, PodCensus } from '@app/testing/pod-census.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { type ComponentProcess, startComponent } from '../../../bench/lib/component-process.js';
import { CONTROLLER_MANAGER_READY_LINE } from '../src/run-controller-manager.js';

/** Rounds (one kill -9 each): 3 in CI, more with `npm run test:ext` (WAKE_CHAOS_ROUNDS). */
const ROUNDS = Number(process.env.WAKE_CHAOS_ROUNDS ?? 3);
/** The seed of the kill points, printed so a failing run can be replayed (WAKE_CHAOS_SEED). */
const SEED = Number(process.env.WAKE_CHAOS_SEED ?? Date.now() % 1_000_000);
const REPLICAS = 20;
/** A bound per round (a restart, a lease expiry and a rollout on 2 shared cores), not a speed claim. */
const ROUND_BUDGET_MS = 90_000;
const NS = 'chaos';

/** mulberry32: a small seeded generator, so a failing run's kill points can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** maxSurge 25% of 20, rounded up (ResolveFenceposts). */
const MAX_SURGE = 5;

interface ReplicaSet {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}
interface Deployment {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}
type PodWithSpec = CensusPod & { spec?: { containers?: { image: string }[] } };

const imageOf = (p: PodWithSpec) => p.spec?.containers?.[0]?.image;
const deployment = (image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: REPLICAS,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image }] },
    },
  },
});

/**
 * kill -9 the controller manager (the real `wake controller-manager`, a child process) at
 * random points while it works, restart it, and check it ends exactly where it should with
 * never more pods than allowed at any moment a pod watch shows. The restarted process takes
 * over once the killed one's lease (2 s here) expires.
 *
 * "No moment above replicas + maxSurge" counts active pods (not terminal, no deletionTimestamp:
 * controller.FilterActivePods, what status.replicas counts); a pod being deleted no longer
 * counts, as for every upstream controller. Upstream's own bound is on the sets' spec.replicas
 * (NewRSNewReplicas); it holds for pods too because an old set's pod deletions follow its
 * scale-down one bus hop sooner than the new set's creations follow the next scale-up.
 *
 * Known failure of the Deployment test (deployment/ as merged from cm-deploy at 47c545d, not
 * this suite's to fix): rolling.ts cleanupUnhealthyReplicas lacks upstream's guard (rolling.go:
 * `if newReplicasCount > *(targetRS.Spec.Replicas) { return error }`). Right after an old set
 * is scaled down (spec 5) its status still counts the pods not yet deleted as available (9),
 * so `size − available` is negative and the "cleanup" scales the old set back UP (5 → 9); its
 * ReplicaSet controller creates old pods and the namespace holds up to 35 active pods
 * (> replicas + maxSurge = 25), with or without a kill. With that guard added, 20 rounds with
 * kills passed here.
 */
describe(`controller manager under kill -9 (${ROUNDS} rounds, seed ${SEED})`, () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let cm: ComponentProcess | undefined;
  let census: PodCensus | undefined;
  const censuses: PodCensus[] = [];
  const random = seeded(SEED);
  let kills = 0;
  let stopping = false;
  const everyCm: ComponentProcess[] = [];
  /** Why each replica that exited by itself did (the end of its log). */
  const selfExits: string[] = [];

  const startCm = () =>
    startComponent(
      'controller-manager',
      [
        'controller-manager',
        '--kubeconfig',
        cluster.kubeconfig,
        '--nats-url',
        cluster.natsUrl,
        // Short enough that a restarted replica takes over in seconds, long enough that a
        // renewal slowed by two busy cores is not taken for a lost lease.
        '--leader-elect-lease-duration',
        '3s',
        '--leader-elect-renew-deadline',
        '2s',
        '--leader-elect-retry-period',
        '500ms',
      ],
      CONTROLLER_MANAGER_READY_LINE,
    );
  /**
   * Runs the controller manager as `wake up` does: a replica that exits by itself (it lost its
   * lease: upstream exits then) is started again. The ones the test kills are restarted by
   * `killWhen`.
   */
  const supervise = async () => {
    const started = await startCm();
    everyCm.push(started);
    cm = started;
    void started.exited.then(() => {
      if (cm !== started || stopping) return;
      selfExits.push(started.outputTail().stderr.slice(-500));
      void supervise();
    });
  };
  /** Waits for `point` (checked against the census, not the API), a random few ms more, then kill -9 and restart. */
  const killWhen = async (what: string, point: () => boolean) => {
    await waitFor(what, () => (point() ? true : undefined), { timeoutMs: 60_000, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, Math.floor(random() * 200)));
    // A replica restarting after it exited by itself is waited for: it is the one to kill.
    const victim = await waitFor('a controller manager running', () => cm);
    cm = undefined;
    await victim.kill();
    kills++;
    await supervise();
  };
  const rsPath = (name = '', ns = NS) =>
    `/apis/apps/v1/namespaces/${ns}/replicasets${name ? `/${name}` : ''}`;

  beforeAll(async () => {
    cluster = await startApiCluster();
    // The controller manager is the wake CLI's, a child process the test kills.
    plane = await startSimControlPlane(cluster, {
      nodes: 5,
      sim: { leaseRenewMs: 1000 },
      controllerManager: false,
    });
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: NS } });
    await supervise();
    census = await PodCensus.start(cluster, NS);
    censuses.push(census);
  });
  afterAll(async () => {
    stopping = true;
    for (const c of censuses) c.close();
    await Promise.allSettled(everyCm.map((p) => p.kill()));
    if (selfExits.length)
      process.stderr.write(`controller manager exits not ours:\n${selfExits.join('\n')}\n`);
    await plane?.close();
    await cluster?.close();
  });

  const depPath = `/apis/apps/v1/namespaces/${NS}/deployments/web`;
  /** What `kubectl rollout status` waits for, and then some: every count at REPLICAS, nothing unavailable. */
  const rolledOut = async () => {
    let last: Deployment | undefined;
    return waitFor(
      'the rollout to complete',
      async () => {
        const d = (last = await cluster.ok<Deployment>('GET', depPath));
        const s = d.status ?? {};
        const progressing = s.conditions?.find((c) => c.type === 'Progressing');
        return (s.observedGeneration ?? 0) >= d.metadata.generation &&
          s.replicas === REPLICAS &&
          s.updatedReplicas === REPLICAS &&
          s.readyReplicas === REPLICAS &&
          s.availableReplicas === REPLICAS &&
          !s.unavailableReplicas &&
          progressing?.reason === 'NewReplicaSetAvailable'
          ? d
          : undefined;
      },
      { timeoutMs: ROUND_BUDGET_MS },
    ).catch(async (e: Error) => {
      const sets = (await cluster.ok<{ items: ReplicaSet[] }>('GET', rsPath())).items.map((rs) => ({
        name: rs.metadata.name,
        image: rs.spec.template.spec.containers[0].image,
        replicas: rs.spec.replicas,
        status: rs.status,
      }));
      const pods = (census?.active() ?? []).map(
        (p: PodWithSpec) => `${p.metadata.name} ${imageOf(p)} ${p.status?.phase}`,
      );
      const out = cm?.outputTail();
      throw new Error(
        [
          e.message,
          `the Deployment: ${JSON.stringify({ generation: last?.metadata.generation, status: last?.status })}`,
          `its ReplicaSets: ${JSON.stringify(sets)}`,
          `active pods: ${pods.join(', ')}`,
          `the controller manager wrote: ${out?.stdout.slice(-2000)}\n${out?.stderr.slice(-2000)}`,
        ].join('\n'),
      );
    });
  };

  /** Waits until the watch shows exactly REPLICAS active pods, all of `image` (it may lag the API a little). */
  const onlyPodsOf = (image: string) =>
    waitFor(`only the ${REPLICAS} pods of ${image} left`, () => {
      const active = census?.active() ?? [];
      return active.length === REPLICAS && active.every((p) => imageOf(p) === image) ? true : undefined;
    });

  it(
    `a ${REPLICAS}-replica rolling update with the controller manager killed at a random point ends exactly as desired, never above replicas + maxSurge`,
    async () => {
      const c = census as PodCensus;
      const killsBefore = kills;
      await cluster.ok('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment('app:v0'));
      await rolledOut();
      await onlyPodsOf('app:v0');
      for (let round = 1; round <= ROUNDS; round++) {
        c.reset();
        const image = `app:v${round}`;
        await cluster.mergePatch(depPath, deployment(image));
        // A random point of the rollout: after 0..19 of its new pods were created, then 0..199 ms.
        const killAfter = Math.floor(random() * REPLICAS);
        await killWhen(
          `round ${round}: ${killAfter} new pods created`,
          () => c.created.filter((p) => imageOf(p) === image).length >= killAfter,
        );
        await rolledOut();

        // Exactly the desired state: REPLICAS pods of the new template, one ReplicaSet with them
        // all ready, every older one at 0 with no pods.
        await onlyPodsOf(image);
        // No observed moment had more active pods than replicas + maxSurge.
        const byImage = (pods: PodWithSpec[]) =>
          pods.reduce<Record<string, number>>(
            (n, p) => ({ ...n, [imageOf(p) ?? '']: (n[imageOf(p) ?? ''] ?? 0) + 1 }),
            {},
          );
        const atMax = `${c.maxActive} active at resourceVersion ${c.maxAt}: ${JSON.stringify(byImage(c.maxPods))}`;
        expect(c.maxActive <= REPLICAS + MAX_SURGE ? 'within' : atMax).toBe('within');
        // Exactly one new pod per replica was created (no duplicate creates), and no old one.
        const seen = (p: PodWithSpec) => `${p.metadata.name} ${imageOf(p)} at ${p.metadata.resourceVersion}`;
        expect(c.created.filter((p) => imageOf(p) !== image).map(seen)).toEqual([]);
        expect(c.created.map(seen)).toHaveLength(REPLICAS);
        const sets = (await cluster.ok<{ items: ReplicaSet[] }>('GET', rsPath())).items;
        const current = sets.filter((rs) => rs.spec.template.spec.containers[0].image === image);
        expect(current).toHaveLength(1);
        expect(current[0].spec.replicas).toBe(REPLICAS);
        expect(current[0].status).toMatchObject({ replicas: REPLICAS, readyReplicas: REPLICAS });
        for (const old of sets.filter((rs) => rs !== current[0]))
          expect({
            name: old.metadata.name,
            replicas: old.spec.replicas,
            pods: old.status?.replicas ?? 0,
          }).toEqual({
            name: old.metadata.name,
            replicas: 0,
            pods: 0,
          });
      }
      expect(kills - killsBefore).toBe(ROUNDS);
      expect(c.broken).toBeUndefined();
    },
    ROUND_BUDGET_MS * (ROUNDS + 1),
  );

  it(
    `a ${REPLICAS}-replica ReplicaSet scaled up and down with the controller manager killed mid-way creates exactly what it needs`,
    async () => {
      const ns = 'chaos-rs';
      await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
      const c = await PodCensus.start(cluster, ns);
      censuses.push(c);
      const killsBefore = kills;
      for (let round = 1; round <= ROUNDS; round++) {
        c.reset();
        const name = `rs-${round}`;
        const labels = { app: name };
        await cluster.ok('POST', rsPath('', ns), {
          metadata: { name },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
          },
        });
        const mine = (p: CensusPod) => p.metadata.labels?.app === name;
        const killAfter = Math.floor(random() * REPLICAS);
        await killWhen(
          `${killAfter} pods of ${name} created`,
          () => c.created.filter(mine).length >= killAfter,
        );
        await waitFor(
          `${name}: ${REPLICAS} ready`,
          async () => {
            const cur = await cluster.ok<ReplicaSet>('GET', rsPath(name, ns));
            return cur.status?.readyReplicas === REPLICAS ? cur : undefined;
          },
          { timeoutMs: ROUND_BUDGET_MS },
        );
        await waitFor(`${name}: ${REPLICAS} pods watched`, () =>
          c.active(mine).length === REPLICAS ? true : undefined,
        );
        expect(c.created.filter(mine)).toHaveLength(REPLICAS);
        expect(c.maxActive).toBeLessThanOrEqual(REPLICAS);

        // Scaled to zero, killed again part-way: every pod goes and none is created.
        await cluster.mergePatch(rsPath(name, ns), { spec: { replicas: 0 } });
        const killBelow = Math.floor(random() * REPLICAS) + 1;
        await killWhen(`${name} down to ${killBelow}`, () => c.active(mine).length <= killBelow);
        await waitFor(`${name}: no pods`, () => (c.active(mine).length === 0 ? true : undefined), {
          timeoutMs: ROUND_BUDGET_MS,
        });
        expect(c.created.filter(mine)).toHaveLength(REPLICAS);
      }
      expect(kills - killsBefore).toBe(2 * ROUNDS);
      expect(c.broken).toBeUndefined();
    },
    ROUND_BUDGET_MS * ROUNDS,
  );
});
