import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiConnection } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type CensusPod, PodCensus } from '@app/testing/pod-census.js';

import { type ComponentProcess, startComponent } from '../../../bench/lib/component-process.js';
import { type RunningSimAgent, startSimAgent } from '../../node-agent/src/sim/index.js';
import { type RunningScheduler, startScheduler } from '../../scheduler/src/run-scheduler.js';

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

interface ReplicaSet {
  metadata: { name: string; uid: string; generation?: number };
  spec: { replicas: number };
  status?: { replicas?: number; readyReplicas?: number; observedGeneration?: number };
}

/**
 * kill -9 the controller manager (the real `wake controller-manager`, a child process) at
 * random points while it works, restart it, and check it ends exactly where it should with
 * never more pods than allowed at any moment a pod watch shows. The restarted process takes
 * over once the killed one's lease (2 s here) expires.
 */
describe(`controller manager under kill -9 (${ROUNDS} rounds, seed ${SEED})`, () => {
  let cluster: ApiCluster;
  let scheduler: RunningScheduler | undefined;
  let sim: RunningSimAgent | undefined;
  let cm: ComponentProcess | undefined;
  let census: PodCensus | undefined;
  const random = seeded(SEED);
  let kills = 0;

  const startCm = () =>
    startComponent(
      'controller-manager',
      [
        'controller-manager',
        '--kubeconfig',
        cluster.kubeconfig,
        '--nats-url',
        cluster.natsUrl,
        '--leader-elect-lease-duration',
        '2s',
        '--leader-elect-renew-deadline',
        '1500ms',
        '--leader-elect-retry-period',
        '200ms',
      ],
      /controller-manager ready/,
    );
  /** Waits for `point` (checked against the census, not the API), a random few ms more, then kill -9 and restart. */
  const killWhen = async (what: string, point: () => boolean) => {
    await waitFor(what, () => (point() ? true : undefined), { timeoutMs: 60_000, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, Math.floor(random() * 200)));
    await cm?.kill();
    kills++;
    cm = await startCm();
  };
  const ok = async <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await cluster.api<T>(method, path, body, headers);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  const mergePatch = (path: string, body: unknown) =>
    ok('PATCH', path, body, { 'content-type': 'application/merge-patch+json' });
  const rsPath = (name = '') => `/apis/apps/v1/namespaces/${NS}/replicasets${name ? `/${name}` : ''}`;
  const ownedBy = (uid: string) => (p: CensusPod & { metadata: { ownerReferences?: { uid: string }[] } }) =>
    p.metadata.ownerReferences?.some((r) => r.uid === uid) ?? false;

  beforeAll(async () => {
    cluster = await startApiCluster();
    const connection: ApiConnection = {
      server: cluster.server.url,
      caCert: cluster.server.caCert,
      token: cluster.server.tokens.tokenOf('admin'),
    };
    scheduler = await startScheduler({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
    });
    sim = await startSimAgent({ connection, natsUrl: cluster.natsUrl, nodes: 5, leaseRenewMs: 1000 });
    await ok('POST', '/api/v1/namespaces', { metadata: { name: NS } });
    cm = await startCm();
    census = await PodCensus.start(cluster, NS);
  });
  afterAll(async () => {
    census?.close();
    await Promise.allSettled([cm?.kill()]);
    await Promise.allSettled([sim?.close(), scheduler?.close()]);
    await cluster?.close();
  });

  it(
    'a ReplicaSet scaled up and down with the controller manager killed mid-way creates exactly what it needs',
    async () => {
      const c = census as PodCensus;
      for (let round = 0; round < ROUNDS; round++) {
        c.reset();
        const name = `rs-${round}`;
        const labels = { app: name };
        const rs = await ok<ReplicaSet>('POST', rsPath(), {
          metadata: { name },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
          },
        });
        const mine = ownedBy(rs.metadata.uid);
        const killAfter = Math.floor(random() * REPLICAS);
        await killWhen(
          `${killAfter} pods of ${name} created`,
          () => c.created.filter(mine).length >= killAfter,
        );
        await waitFor(
          `${name}: ${REPLICAS} ready`,
          async () => {
            const cur = await ok<ReplicaSet>('GET', rsPath(name));
            return cur.status?.readyReplicas === REPLICAS ? cur : undefined;
          },
          { timeoutMs: 90_000 },
        );
        expect(c.active(mine)).toHaveLength(REPLICAS);
        expect(c.created.filter(mine)).toHaveLength(REPLICAS);
        expect(c.maxActive).toBeLessThanOrEqual(REPLICAS);

        // Scale to zero, killed again part-way: every pod goes and none is created.
        await mergePatch(rsPath(name), { spec: { replicas: 0 } });
        const killBelow = Math.floor(random() * REPLICAS) + 1;
        await killWhen(`${name} down to ${killBelow}`, () => c.active(mine).length <= killBelow);
        await waitFor(`${name}: no pods`, () => (c.active(mine).length === 0 ? true : undefined), {
          timeoutMs: 90_000,
        });
        expect(c.created.filter(mine)).toHaveLength(REPLICAS);
      }
      expect(kills).toBe(2 * ROUNDS);
      expect(c.broken).toBeUndefined();
    },
    ROUND_BUDGET_MS * ROUNDS,
  );
});
