import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

const MAIN = resolve('apps/cli/src/main.ts');
const PODS = 300;
/** Pods created while the first leader lives; the rest come after it is killed. */
const BEFORE_KILL = 150;

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

/**
 * Two `wake scheduler` processes elect a leader; the leader is killed with SIGKILL in the
 * middle of a burst; the standby takes over, and every pod ends bound exactly once.
 */
describe('scheduler failover: kill -9 the leader mid-burst', () => {
  let cluster: ApiCluster;
  const schedulers: ChildProcess[] = [];
  const logs = new Map<number, string>();

  const startScheduler = () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'scheduler',
        '--kubeconfig',
        // As its own user, as `wake up` runs it: its lease is created, read and renewed under its roles.
        cluster.componentKubeconfig('scheduler'),
        '--nats-url',
        cluster.natsUrl,
        // Short, but with room for a renewal that waits behind a 300-pod burst on a loaded CI
        // machine: a leader that misses its renew deadline exits, as kube-scheduler does.
        '--leader-elect-lease-duration',
        '5s',
        '--leader-elect-renew-deadline',
        '4s',
        '--leader-elect-retry-period',
        '200ms',
        '--metrics-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const pid = child.pid as number;
    logs.set(pid, '');
    const keep = (d: Buffer) => logs.set(pid, (logs.get(pid) ?? '') + d.toString());
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    schedulers.push(child);
    return child;
  };
  const lease = async () =>
    (
      await cluster.api<Lease>(
        'GET',
        '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler',
      )
    ).body;
  /** Each scheduler says who it is when ready: the identity it holds the lease as. */
  const identityOf = (child: ChildProcess) =>
    /scheduler ready as ([^\s,]+)/.exec(logs.get(child.pid as number) ?? '')?.[1];
  const holder = (l: Lease, ...children: ChildProcess[]) =>
    children.find((c) => identityOf(c) !== undefined && identityOf(c) === l.spec?.holderIdentity);

  beforeAll(async () => {
    cluster = await startApiCluster();
    for (let i = 0; i < 4; i++) {
      const capacity = { cpu: '8', memory: '32Gi', pods: '110' };
      const r = await cluster.api('POST', '/api/v1/nodes', {
        metadata: { name: `node-${i}` },
        status: { capacity, allocatable: capacity },
      });
      expect(r.status).toBe(201);
    }
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: 'burst' } })).status).toBe(
      201,
    );
  });
  afterAll(async () => {
    for (const s of schedulers) if (s.exitCode === null) s.kill('SIGKILL');
    await cluster?.close();
  });

  it('the standby takes over; no pod is bound twice or lost', async () => {
    const a = startScheduler();
    const b = startScheduler();
    const first = await waitFor(
      'a leader',
      async () => {
        const l = await lease().catch(() => undefined);
        return l && holder(l, a, b) ? l : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const leader = holder(first, a, b) as ChildProcess;
    const standby = leader === a ? b : a;

    // Everything that happens to the pods from here on, in log order.
    const rv = (
      await cluster.api<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces/burst/pods')
    ).body.metadata.resourceVersion;
    const watch = await cluster.stream(`/api/v1/namespaces/burst/pods?watch=1&resourceVersion=${rv}`);

    const create = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, i) =>
          cluster.api('POST', '/api/v1/namespaces/burst/pods', {
            metadata: { name: `p-${from + i}` },
            spec: { containers: [{ name: 'c', image: 'pause', resources: { requests: { cpu: '100m' } } }] },
          }),
        ),
      );
    // The burst's first part goes to the leader, the rest arrives after it died: a fast leader
    // cannot have placed every pod before the kill.
    const created = [create(0, BEFORE_KILL)];
    const bound = () =>
      cluster
        .api<{ items: { spec: { nodeName?: string } }[] }>('GET', '/api/v1/namespaces/burst/pods')
        .then((r) => r.body.items.filter((p) => p.spec.nodeName).length);
    // Mid-burst: some bound, maybe more still being bound as it dies.
    await waitFor('the leader to bind some pods', async () => ((await bound()) >= 10 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    leader.kill('SIGKILL');
    created.push(create(BEFORE_KILL, PODS));
    for (const r of (await Promise.all(created)).flat()) expect(r.status).toBe(201);

    const taken = await waitFor(
      'the standby to take the lease',
      async () => {
        const l = await lease();
        return holder(l, standby) ? l : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(taken.spec.leaseTransitions).toBe((first.spec.leaseTransitions ?? 0) + 1);
    await waitFor('every pod bound', async () => ((await bound()) === PODS ? true : undefined), {
      timeoutMs: 60_000,
    });

    // Once bound, a pod's node never changed: no pod was bound twice.
    const nodeOf = new Map<string, string>();
    await waitFor('the watch to deliver every binding', () => {
      for (const line of watch.lines.splice(0)) {
        const e = JSON.parse(line) as { object: { metadata: { name: string }; spec: { nodeName?: string } } };
        const { name } = e.object.metadata;
        const node = e.object.spec.nodeName;
        if (!node) continue;
        const before = nodeOf.get(name);
        if (before !== undefined) expect(node).toBe(before);
        nodeOf.set(name, node);
      }
      return nodeOf.size === PODS ? true : undefined;
    });
    watch.close();
    // The new leader kept its lease to the end (its log says why if not).
    expect({
      exitCode: standby.exitCode,
      log: standby.exitCode === null ? '' : logs.get(standby.pid as number),
    }).toEqual({
      exitCode: null,
      log: '',
    });
  });
});
