import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ApiClient, ApiError } from '../src/api/api-client.js';
import { LeaderElector } from '../src/leader/leader-elector.js';

/** Short timings (upstream's are 15 s / 10 s / 2 s): the lease's own unit is whole seconds. */
const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 100 };

describe('leader election on a Lease, fenced', () => {
  let cluster: ApiCluster;
  const clients: ApiClient[] = [];
  const electors: LeaderElector[] = [];
  const client = (fence?: () => string | undefined) => {
    const c = new ApiClient(cluster.connection, { userAgent: 'leader-test', fence });
    clients.push(c);
    return c;
  };
  const candidate = (identity: string, events: string[]) => {
    const e = new LeaderElector({
      api: client(),
      namespace: 'kube-system',
      name: 'wake-test',
      identity,
      ...TIMING,
      onStartedLeading: (fence) => events.push(`${identity} leads ${fence}`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  };
  const configMap = (name: string) => ({ metadata: { name }, data: { by: name } });

  beforeAll(async () => {
    cluster = await startApiCluster();
  });
  afterAll(async () => {
    for (const e of electors) await e.stop({ release: false });
    for (const c of clients) c.close();
    await cluster?.close();
  });

  it('elects one leader; a paused leader`s writes are refused once a standby has taken over', async () => {
    const events: string[] = [];
    const a = candidate('a', events);
    const aRun = a.run();
    await waitFor('a to lead', () => (a.isLeader ? true : undefined), { timeoutMs: 10_000 });
    const b = candidate('b', events);
    const bRun = b.run();
    // b keeps campaigning while a renews: several retry periods pass without a change of leader.
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.isLeader).toBe(false);
    expect(events).toEqual(['a leads kube-system/wake-test@0']);

    const aFence = a.fence;
    const aWrites = client(() => aFence);
    await aWrites.create('/api/v1/namespaces/default/configmaps', configMap('while-a-leads'));

    // a freezes (stops renewing, does not hand the lease back): b takes over after the lease runs out.
    await a.stop({ release: false });
    await aRun;
    await waitFor('b to lead', () => (b.isLeader ? true : undefined), { timeoutMs: 10_000 });
    expect(events).toContain('b leads kube-system/wake-test@1');

    const refused = await aWrites
      .create('/api/v1/namespaces/default/configmaps', configMap('after-a-lost'))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe(409);
    expect((refused as ApiError).message).toContain('the leader fence does not hold');
    const bFence = b.fence;
    await client(() => bFence).create('/api/v1/namespaces/default/configmaps', configMap('while-b-leads'));
    expect((await cluster.api('GET', '/api/v1/namespaces/default/configmaps/after-a-lost')).status).toBe(404);

    // b hands the lease back on a clean stop, and a new candidate takes it without waiting it out.
    await b.stop();
    await bRun;
    const c = candidate('c', events);
    void c.run();
    await waitFor('c to lead', () => (c.isLeader ? true : undefined), { timeoutMs: 5_000 });
    expect(c.fence).toBe('kube-system/wake-test@2');
  });
});
