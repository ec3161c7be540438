import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  checkAckedDurability,
  checkCasChains,
  checkGapless,
  checkNoPhantoms,
  checkTail,
  type RecordedOp,
} from '@app/checkers';
import { type StoredEvent } from '@app/event-store';
import { connect } from '../src/connection.js';

import { logEntries, runMixedLoad, startTailer } from './mixed-load.js';
import { cm, configMap, ctx, openStore, type StoreFixture, wholeLog } from './store-fixture.js';

describe('the log under 32 concurrent writers', () => {
  let f: StoreFixture;
  let history: RecordedOp[];
  let log: StoredEvent[];
  let tailed: number[];

  beforeAll(async () => {
    f = await openStore();
    const tailer = startTailer(f.store);
    history = await runMixedLoad(f.store, { writers: 32, opsPerWriter: 40, keys: 40, seed: 2026 });
    const head = await f.store.head();
    tailed = await tailer.stop(head.seq);
    log = await wholeLog(f.store);
  });
  afterAll(() => f.close());

  it('did real work: appends, conflicts and batches of more than one', () => {
    expect(history).toHaveLength(32 * 40);
    const ok = history.filter((o) => o.outcome.ok);
    expect(ok.filter((o) => o.kind === 'update').length).toBeGreaterThan(100);
    expect(ok.filter((o) => o.kind === 'delete').length).toBeGreaterThan(20);
    expect(history.filter((o) => !o.outcome.ok && o.outcome.reason === 'Conflict').length).toBeGreaterThan(0);
    expect(f.store.batchStats().largestBatch).toBeGreaterThan(1);
  });

  it('assigned a gapless sequence 1..head', async () => {
    expect(
      checkGapless(
        log.map((e) => e.seq),
        (await f.store.head()).seq,
      ),
    ).toEqual([]);
  });

  it('let a reader tailing seq > cursor see every event, in order, once', () => {
    expect(
      checkTail(
        tailed,
        log.map((e) => e.seq),
      ),
    ).toEqual([]);
  });

  it('kept every acknowledged write, and nothing no request explains', () => {
    expect(checkAckedDurability(history, logEntries(log))).toEqual([]);
    expect(checkNoPhantoms(history, logEntries(log))).toEqual([]);
  });

  it('made per-object successful updates one resourceVersion chain', () => {
    expect(checkCasChains(history, logEntries(log))).toEqual([]);
  });

  it('replays into a projection identical to the live one', async () => {
    const report = await f.store.replay();
    expect(report).toMatchObject({
      identical: true,
      differences: [],
      missingPayloads: 0,
      events: log.length,
    });
    expect(report.malformed).toBeUndefined();
  });

  it('verifies its hash chain end to end', async () => {
    expect(await f.store.verify()).toMatchObject({ ok: true, checked: log.length });
  });
});

describe('commit order (deterministic interleavings)', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore()));
  afterAll(() => f.close());

  it('negative control: a bigserial log makes a tailing reader skip an event forever', async () => {
    const sql = f.store.adminSql;
    await sql`CREATE TABLE naive_log (seq bigserial PRIMARY KEY, v text)`;
    const slow = connect(f.db.url, { max: 1 });
    try {
      let releaseSlow!: () => void;
      const held = new Promise<void>((r) => (releaseSlow = r));
      let slowSeq = 0;
      const slowTx = slow.begin(async (tx) => {
        slowSeq = Number((await tx`INSERT INTO naive_log (v) VALUES ('slow') RETURNING seq`)[0].seq);
        await held;
      });
      while (!slowSeq) await new Promise((r) => setTimeout(r, 5));
      await sql`INSERT INTO naive_log (v) VALUES ('fast')`;
      const observed: number[] = [];
      let cursor = 0;
      const tail = async () => {
        for (const r of await sql<
          { seq: number }[]
        >`SELECT seq FROM naive_log WHERE seq > ${cursor} ORDER BY seq`) {
          observed.push(Number(r.seq));
          cursor = Number(r.seq);
        }
      };
      await tail();
      releaseSlow();
      await slowTx;
      await tail();
      const all = (await sql<{ seq: number }[]>`SELECT seq FROM naive_log ORDER BY seq`).map((r) =>
        Number(r.seq),
      );
      expect(checkTail(observed, all)).toEqual([
        { checker: 'tail', message: expect.stringMatching(/never saw 1 .* first 1$/) },
      ]);
    } finally {
      await slow.end();
    }
  });

  it('the same interleaving against the event log: the later writer waits, the reader misses nothing', async () => {
    const blocker = connect(f.db.url, { max: 1 });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked = false;
      // An in-flight append holds the head row until it commits; stand in for one.
      const tx = blocker.begin(async (t) => {
        await t`SELECT seq FROM wake.log_head WHERE id = 1 FOR UPDATE`;
        locked = true;
        await held;
      });
      while (!locked) await new Promise((r) => setTimeout(r, 5));
      const start = (await f.store.head()).seq;
      const write = f.store.create(cm('order', 'late'), configMap('late'), ctx());
      await new Promise((r) => setTimeout(r, 100));
      expect((await f.store.events.after(start)).length).toBe(0);
      release();
      await tx;
      const res = await write;
      expect(res.resourceVersion).toBe(start + 1);
      expect((await f.store.events.after(start)).map((e) => e.seq)).toEqual([start + 1]);
    } finally {
      await blocker.end();
    }
  });
});

/**
 * Replay reports the first event that breaks the log's own rules. Each case writes the log's
 * rows directly, as the schema owner (a broken writer, a restore gone wrong), on a fresh log.
 */
describe('replay names the first event that breaks the log’s rules', () => {
  type Row = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; name: string; uid: string; rv?: string };
  const U1 = '00000000-0000-4000-8000-000000000001';
  const U2 = '00000000-0000-4000-8000-000000000002';

  /** Appends `rows` after the head as raw events (no chain, no projection) and moves the head. */
  async function appendRaw(f: StoreFixture, rows: Row[]): Promise<number> {
    const { seq: head } = await f.store.head();
    await f.store.adminSql.begin(async (tx) => {
      for (const [i, r] of rows.entries()) {
        const seq = head + i + 1;
        const object = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: r.name, resourceVersion: r.rv ?? String(seq) },
        };
        await tx`
          INSERT INTO wake.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                                   actor, verb, prev_hash, hash)
          VALUES (${seq}, now(), ${r.type}, '', 'configmaps', 'raw', ${r.name}, ${r.uid}, ${tx.json(object)},
                  '\\x00', '{}', 'update', '\\x00', '\\x00')`;
      }
      await tx`UPDATE wake.log_head SET seq = ${head + rows.length} WHERE id = 1`;
    });
    return head;
  }

  const cases: { name: string; rows: Row[]; at: number; reason: string }[] = [
    {
      name: 'a MODIFIED of an object never created',
      rows: [{ type: 'MODIFIED', name: 'a', uid: U1 }],
      at: 1,
      reason: 'MODIFIED of an object that does not exist',
    },
    {
      name: 'an ADDED while the object exists',
      rows: [
        { type: 'ADDED', name: 'a', uid: U1 },
        { type: 'ADDED', name: 'a', uid: U1 },
      ],
      at: 2,
      reason: 'ADDED while the object exists',
    },
    {
      name: 'a uid that changes without a re-creation',
      rows: [
        { type: 'ADDED', name: 'a', uid: U1 },
        { type: 'MODIFIED', name: 'a', uid: U2 },
      ],
      at: 2,
      reason: 'uid changed without a re-creation',
    },
    {
      name: 'a payload whose resourceVersion is not its seq',
      rows: [
        { type: 'ADDED', name: 'a', uid: U1 },
        { type: 'MODIFIED', name: 'a', uid: U1, rv: '7' },
      ],
      at: 2,
      reason: 'object resourceVersion 7 differs from its seq',
    },
    {
      name: 'a wrong resourceVersion before a grammar break: the earlier one',
      rows: [
        { type: 'ADDED', name: 'a', uid: U1, rv: '9' },
        { type: 'DELETED', name: 'b', uid: U1 },
      ],
      at: 1,
      reason: 'object resourceVersion 9 differs from its seq',
    },
    {
      name: 'one event breaking the grammar and its resourceVersion: the grammar',
      rows: [{ type: 'DELETED', name: 'a', uid: U1, rv: '9' }],
      at: 1,
      reason: 'DELETED of an object that does not exist',
    },
  ];

  it.each(cases)('$name', async ({ rows, at, reason }) => {
    const f = await openStore();
    try {
      await f.store.create(cm('raw', 'fine'), configMap('fine'), ctx());
      const head = await appendRaw(f, rows);
      const report = await f.store.replay();
      expect(report.malformed).toEqual({ seq: head + at, reason });
    } finally {
      await f.close();
    }
  });
});

describe('replay against a projection changed behind the log', () => {
  let f: StoreFixture;
  beforeAll(async () => {
    f = await openStore();
    for (const name of ['changed', 'removed', 'copied', 'kept'])
      await f.store.create(cm('behind', name), configMap(name, { v: '1' }), ctx());
    const sql = f.store.adminSql;
    await sql`UPDATE wake.resources SET object = jsonb_set(object, '{data,v}', '"2"') WHERE name = 'changed'`;
    await sql`DELETE FROM wake.resources WHERE name = 'removed'`;
    await sql`INSERT INTO wake.resources (api_group, resource, namespace, name, uid, resource_version, object)
              SELECT api_group, resource, namespace, 'extra', uid, resource_version, object
                FROM wake.resources WHERE name = 'copied'`;
  });
  afterAll(() => f.close());

  it('names each row the other side lacks or holds differently, a changed row on both sides', async () => {
    const report = await f.store.replay();
    expect(report.identical).toBe(false);
    const sides = report.differences.map((d) => `${d.side} ${d.namespace}/${d.name}`).sort();
    expect(sides).toEqual([
      'live-only behind/changed',
      'live-only behind/extra',
      'replay-only behind/changed',
      'replay-only behind/removed',
    ]);
  });

  it('reports at most maxDifferences a side', async () => {
    const report = await f.store.replay({ maxDifferences: 1 });
    expect(report.differences.map((d) => d.side).sort()).toEqual(['live-only', 'replay-only']);
  });
});
