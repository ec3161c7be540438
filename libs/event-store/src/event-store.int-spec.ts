import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ReservedSql, type Sql } from 'postgres';

import { StatusError } from '@app/api';
import { waitFor } from '@app/dev-servers';

import { keyId } from './model/index.js';
import { type LogHead, planBatch } from './append/batch-planner.js';
import { appendBatch } from './append/batch-writer.js';
import { objectText } from './append/object-text.js';

import { cm, configMap, ctx, openStore, type StoreFixture } from '../test/store-fixture.js';

describe('EventStore writes', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore()));
  afterAll(() => f.close());

  it('creates an object with uid, creationTimestamp, generation 1 and resourceVersion = seq', async () => {
    const before = await f.store.head();
    const res = await f.store.create(cm('default', 'a'), configMap('a', { k: 'v' }), ctx());
    expect(res.resourceVersion).toBe(before.seq + 1);
    expect(res.object.metadata).toMatchObject({
      name: 'a',
      namespace: 'default',
      resourceVersion: String(before.seq + 1),
      generation: 1,
    });
    expect(res.object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.object.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.event?.type).toBe('ADDED');
    expect((await f.store.get(cm('default', 'a')))?.object).toEqual(res.object);
    expect((await f.store.head()).seq).toBe(before.seq + 1);
  });

  it('refuses a second create of the same name with 409 AlreadyExists and appends nothing', async () => {
    const head = await f.store.head();
    const err = await f.store.create(cm('default', 'a'), configMap('a'), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).toStatus()).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
      details: { name: 'a', kind: 'configmaps' },
    });
    expect(await f.store.head()).toEqual(head);
  });

  it('updates conditionally: the current resourceVersion wins, a stale one gets 409 Conflict', async () => {
    const cur = (await f.store.get(cm('default', 'a')))!;
    const ok = await f.store.update(
      cm('default', 'a'),
      { ...cur.object, data: { k: 'v2' } },
      ctx('bob', { verb: 'update' }),
      {
        resourceVersion: String(cur.resourceVersion),
      },
    );
    expect(ok.resourceVersion).toBeGreaterThan(cur.resourceVersion);
    expect(ok.object.metadata.uid).toBe(cur.object.metadata.uid);
    const stale = await f.store
      .update(cm('default', 'a'), { ...cur.object, data: { k: 'v3' } }, ctx(), {
        resourceVersion: String(cur.resourceVersion),
      })
      .catch((e: unknown) => e);
    expect((stale as StatusError).toStatus()).toMatchObject({ code: 409, reason: 'Conflict' });
    expect((await f.store.get(cm('default', 'a')))?.object.data).toEqual({ k: 'v2' });
  });

  it('appends nothing and keeps the resourceVersion for a write that changes nothing', async () => {
    const cur = (await f.store.get(cm('default', 'a')))!;
    const head = await f.store.head();
    const res = await f.store.update(cm('default', 'a'), cur.object, ctx());
    expect(res.event).toBeUndefined();
    expect(res.resourceVersion).toBe(cur.resourceVersion);
    expect(await f.store.head()).toEqual(head);
  });

  it('bumps generation on spec changes only, never on metadata or status', async () => {
    const key = { group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' };
    const created = await f.store.create(
      key,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } },
      ctx(),
    );
    const labelled = await f.store.update(
      key,
      { ...created.object, metadata: { ...created.object.metadata, labels: { a: 'b' } } },
      ctx(),
    );
    const status = await f.store.update(key, { ...labelled.object, status: { replicas: 1 } }, ctx());
    const scaled = await f.store.update(key, { ...status.object, spec: { replicas: 3 } }, ctx());
    expect([created, labelled, status, scaled].map((r) => r.object.metadata.generation)).toEqual([
      1, 1, 1, 2,
    ]);
  });

  it('keeps identity fields whatever an update sends', async () => {
    const cur = (await f.store.get(cm('default', 'a')))!;
    const res = await f.store.update(
      cm('default', 'a'),
      {
        ...cur.object,
        metadata: { ...cur.object.metadata, uid: 'forged', creationTimestamp: '1999-01-01T00:00:00Z' },
        data: { k: 'v9' },
      },
      ctx(),
    );
    expect(res.object.metadata.uid).toBe(cur.object.metadata.uid);
    expect(res.object.metadata.creationTimestamp).toBe(cur.object.metadata.creationTimestamp);
  });

  it('deletes with preconditions: a wrong uid is a 409, the right one removes the object', async () => {
    const cur = (await f.store.get(cm('default', 'a')))!;
    const wrong = await f.store.delete(cm('default', 'a'), ctx(), { uid: 'nope' }).catch((e: unknown) => e);
    expect((wrong as StatusError).toStatus()).toMatchObject({ code: 409, reason: 'Conflict' });
    const del = await f.store.delete(cm('default', 'a'), ctx('carol', { verb: 'delete' }), {
      uid: cur.object.metadata.uid,
    });
    expect(del.event?.type).toBe('DELETED');
    expect(del.object.metadata.resourceVersion).toBe(String(del.resourceVersion));
    expect(await f.store.get(cm('default', 'a'))).toBeUndefined();
    const again = await f.store.delete(cm('default', 'a'), ctx()).catch((e: unknown) => e);
    expect((again as StatusError).toStatus()).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('records who, what, why and when on every event', async () => {
    const res = await f.store.create(
      cm('kube-system', 'audit'),
      configMap('audit'),
      ctx('system:serviceaccount:kube-system:rs-controller', {
        verb: 'create',
        requestId: 'r-42',
        cause: 7,
        userAgent: 'wake-controller-manager/0.1',
      }),
    );
    const e = (await f.store.events.at(res.resourceVersion))!;
    expect(e).toMatchObject({
      actor: { user: 'system:serviceaccount:kube-system:rs-controller', groups: ['system:authenticated'] },
      verb: 'create',
      requestId: 'r-42',
      userAgent: 'wake-controller-manager/0.1',
      sourceIp: '127.0.0.1',
      cause: 7,
      type: 'ADDED',
    });
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await f.store.events.causedBy(7)).toEqual([e]);
  });

  it('rejects an object jsonb cannot store with 400 and appends nothing', async () => {
    const head = await f.store.head();
    const err = await f.store
      .create(cm('default', 'nul'), configMap('nul', { k: 'a\u0000b' }), ctx())
      .catch((e: unknown) => e);
    expect((err as StatusError).toStatus()).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(await f.store.head()).toEqual(head);
  });
});

/** The store's head as the writer plans on it. */
async function logHead(f: StoreFixture): Promise<LogHead> {
  const h = await f.store.head();
  return { seq: h.seq, hash: h.hash, atMs: Date.parse(h.at) };
}

describe('a rolling upgrade', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore()));
  afterAll(() => f.close());

  it('lets an API server of the previous release append with version 3 of append_batch (projection rows with their payloads)', async () => {
    await f.store.create(cm('default', 'before'), configMap('before'), ctx());
    const h = await logHead(f);
    const key = cm('default', 'old-release');
    const plan = planBatch(
      [{ op: 'create', key, object: configMap('old-release', { k: 'v' }), ctx: ctx() }],
      new Map([[keyId(key), null]]),
      h,
    );
    const [event] = plan.events;
    // What that release sent: each projection row carried its key, uid and object.
    const inserts = JSON.stringify([
      {
        g: '',
        r: 'configmaps',
        ns: 'default',
        n: 'old-release',
        uid: event.uid,
        rv: event.seq,
        object: event.object,
      },
    ]);
    await f.store.sql`
      SELECT wake.append_batch(
        ${h.seq}, decode(${h.hash}, 'hex'), ${plan.rows.events}, ${inserts}, '[]', '[]',
        ${plan.head.seq}, decode(${plan.head.hash}, 'hex'), ${new Date(plan.head.atMs).toISOString()}::timestamptz,
        ${[1, 0, 0, 1]}::int[])`;
    expect((await f.store.get(key))?.object).toEqual(event.object);
    // This release appends on top of it (its belief of the head is stale: it is read again).
    const after = await f.store.create(cm('default', 'after'), configMap('after'), ctx());
    expect(after.resourceVersion).toBe(event.seq + 1);
    expect((await f.store.verify()).ok).toBe(true);
  });
});

describe('the append guard', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore()));
  afterAll(() => f.close());

  const head = () => logHead(f);
  /** Appends, through `sql`, an update of `name` to `k` planned on `on`, believing the object is at `rv`. */
  const update = async (sql: Sql | ReservedSql, name: string, k: string, on: LogHead, rv: number) => {
    const key = cm('default', name);
    const current = (await f.store.get(key))!;
    const known = {
      uid: current.object.metadata.uid!,
      resourceVersion: rv,
      text: objectText(current.object),
    };
    const mutation = { op: 'update' as const, key, object: configMap(name, { k }), ctx: ctx() };
    return appendBatch(sql, on, planBatch([mutation], new Map([[keyId(key), known]]), on));
  };
  const rvOf = async (name: string) => (await f.store.get(cm('default', name)))!.resourceVersion;

  it('refuses, changing nothing, a batch planned on a moved head or on a resourceVersion that changed', async () => {
    await f.store.create(cm('default', 'guarded'), configMap('guarded', { k: '1' }), ctx());
    const unchanged = async () => ({
      head: await head(),
      object: await f.store.get(cm('default', 'guarded')),
    });

    const stale = await head();
    const rv = await rvOf('guarded');
    await f.store.create(cm('default', 'mover'), configMap('mover'), ctx());
    const before = await unchanged();
    await expect(update(f.store.sql, 'guarded', '2', stale, rv)).rejects.toMatchObject({
      code: '40001',
      message: `the log head moved: planned on seq ${stale.seq}, found seq ${stale.seq + 1}`,
    });
    expect(await unchanged()).toEqual(before);

    // On the current head, but believing an older resourceVersion: the update matches no row.
    await expect(update(f.store.sql, 'guarded', '2', before.head, rv - 1)).rejects.toMatchObject({
      code: '40001',
      message: expect.stringMatching(
        /planned insert\/update\/delete\/append \{0,1,0,1\}, applied \{0,0,0,1\}/,
      ),
    });
    expect(await unchanged()).toEqual(before);

    // The same call, planned right, applies: the refusals were the conditions, not the call.
    await update(f.store.sql, 'guarded', '2', before.head, rv);
    expect((await f.store.get(cm('default', 'guarded')))?.object.data).toEqual({ k: '2' });
    expect((await head()).seq).toBe(before.head.seq + 1);
    expect((await f.store.verify()).ok).toBe(true);
  });

  it('waits for a head another transaction holds, then is refused if that one appended and applies if it let go', async () => {
    await f.store.create(cm('default', 'contended'), configMap('contended', { k: '1' }), ctx());
    await f.store.create(cm('default', 'rival'), configMap('rival', { k: '1' }), ctx());
    const waitingForLock = async () =>
      (
        await f.store.adminSql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE '%append_batch%' AND pid <> pg_backend_pid()`
      )[0].n === 1
        ? true
        : undefined;
    /** Runs `hold` in a transaction on its own connection, our update meanwhile; ends it with `end`. */
    const contend = async (hold: (conn: ReservedSql) => Promise<unknown>, end: 'COMMIT' | 'ROLLBACK') => {
      const on = await head();
      const rv = await rvOf('contended');
      const conn = await f.store.adminSql.reserve();
      try {
        await conn`BEGIN`;
        await hold(conn);
        const ours = update(f.store.sql, 'contended', `after-${end}`, on, rv).then(
          () => 'applied',
          (e: unknown) => e,
        );
        await waitFor('our append to wait for the head', waitingForLock, { timeoutMs: 10_000 });
        await conn.unsafe(end);
        return { on, outcome: await ours };
      } finally {
        conn.release();
      }
    };

    // The holder is another writer's append, committed: the head moved under ours.
    const moved = await contend(async (conn) => {
      const on = await head();
      await update(conn, 'rival', '2', on, await rvOf('rival'));
    }, 'COMMIT');
    expect(moved.outcome).toMatchObject({
      code: '40001',
      message: `the log head moved: planned on seq ${moved.on.seq}, found seq ${moved.on.seq + 1}`,
    });
    expect((await f.store.get(cm('default', 'contended')))?.object.data).toEqual({ k: '1' });

    // The holder only locked the head, and rolled back: ours goes on from where it was planned.
    const released = await contend(
      (conn) => conn`SELECT seq FROM wake.log_head WHERE id = 1 FOR UPDATE`,
      'ROLLBACK',
    );
    expect(released.outcome).toBe('applied');
    expect((await f.store.get(cm('default', 'contended')))?.object.data).toEqual({ k: 'after-ROLLBACK' });
    expect((await head()).seq).toBe(released.on.seq + 1);
    expect((await f.store.verify()).ok).toBe(true);
  });

  it('aborts the transaction when a write touched other than the planned rows', async () => {
    await expect(f.store.sql`SELECT wake.assert_applied('{1,0,0,1,1}', '{0,0,0,1,1}')`).rejects.toMatchObject(
      {
        code: '40001',
        message: expect.stringMatching(
          /planned insert\/update\/delete\/append\/head \{1,0,0,1,1\}, applied \{0,0,0,1,1\}/,
        ),
      },
    );
    await expect(f.store.sql`SELECT wake.assert_applied('{0,1,0,1,1}', '{0,1,0,1,1}')`).resolves.toHaveLength(
      1,
    );
  });
});
