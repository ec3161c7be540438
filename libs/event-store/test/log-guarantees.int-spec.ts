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
