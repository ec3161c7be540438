import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type StatusError } from '@app/api';

import { cm, configMap, ctx, openStore, type StoreFixture } from './store-fixture.js';

const lease = {
  group: 'coordination.k8s.io',
  resource: 'leases',
  namespace: 'kube-node-lease',
  name: 'node-1',
};
const leases = { group: 'coordination.k8s.io', resource: 'leases' };

describe('retention of high-churn payloads', () => {
  let f: StoreFixture;
  let seqs: number[];
  beforeAll(async () => {
    f = await openStore({ retention: { kinds: [leases], windowMs: 60_000 } });
    const created = await f.store.create(
      lease,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'node-1' },
        spec: { renewTime: 't0' },
      },
      ctx(),
    );
    seqs = [created.resourceVersion];
    let cur = created.object;
    for (let i = 1; i <= 4; i++) {
      const res = await f.store.update(
        lease,
        { ...cur, spec: { renewTime: `t${i}` } },
        ctx('kubelet', { verb: 'update' }),
      );
      cur = res.object;
      seqs.push(res.resourceVersion);
    }
    await f.store.create(cm('kube-system', 'keep'), configMap('keep'), ctx());
  });
  afterAll(() => f.close());

  it('keeps payloads inside the window', async () => {
    expect(await f.store.expirePayloads(new Date())).toBe(0);
  });

  it('expires superseded lease payloads past the window, never the latest, never other kinds', async () => {
    expect(await f.store.expirePayloads(new Date(Date.now() + 3_600_000))).toBe(4);
    const history = await f.store.history(lease);
    expect(history.map((v) => v.event.object === null)).toEqual([true, true, true, true, false]);
    expect((await f.store.history(cm('kube-system', 'keep')))[0].event.object).not.toBeNull();
    expect(await f.store.expirePayloads(new Date(Date.now() + 3_600_000))).toBe(0);
  });

  it('the chain still verifies and the projection still rebuilds', async () => {
    expect(await f.store.verify()).toMatchObject({ ok: true });
    expect(await f.store.replay()).toMatchObject({ identical: true, missingPayloads: 0 });
  });

  it('a read as of an expired version is 410 Gone', async () => {
    const err = (await f.store.listAt(leases, seqs[1]).catch((e: unknown) => e)) as StatusError;
    expect(err.toStatus()).toMatchObject({ code: 410, reason: 'Gone' });
  });
});

describe('partitioned log', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore({ partitionSize: 100 })));
  afterAll(() => f.close());

  it('adds partitions ahead of the head as the log grows, without a gap', async () => {
    for (let i = 0; i < 350; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          f.store.create(cm('p', `o-${i + j}`), configMap(`o-${i + j}`), ctx()),
        ),
      );
    }
    const parts = await f.store.partitions.list();
    expect(parts[0]).toMatchObject({ from: 0, to: 100 });
    for (let i = 1; i < parts.length; i++) expect(parts[i].from).toBe(parts[i - 1].to);
    expect(parts[parts.length - 1].to).toBeGreaterThan(350);
    const counts = await f.store.adminSql<{ name: string; n: number }[]>`
      SELECT tableoid::regclass::text AS name, count(*)::int AS n FROM wake.events GROUP BY 1 ORDER BY 1`;
    expect(counts.length).toBeGreaterThanOrEqual(4);
    expect(await f.store.verify()).toMatchObject({ ok: true, checked: 350 });
    expect(await f.store.replay()).toMatchObject({ identical: true, objects: 350 });
  });

  it('recreates partitions an operator dropped ahead of the head, and the append still succeeds', async () => {
    const head = (await f.store.head()).seq;
    const ahead = (await f.store.partitions.list()).filter((p) => p.from > head);
    expect(ahead.length).toBeGreaterThan(0);
    for (const p of ahead) await f.store.adminSql.unsafe(`DROP TABLE wake.${p.name}`);
    const res = await f.store.create(cm('q', 'after'), configMap('after'), ctx());
    expect(res.resourceVersion).toBe(head + 1);
    expect(await f.store.verify()).toMatchObject({ ok: true, checked: head + 1 });
  });
});
