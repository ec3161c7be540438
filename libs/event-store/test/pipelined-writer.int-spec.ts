import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  checkAckedDurability,
  checkCasChains,
  checkGapless,
  checkNoPhantoms,
  type RecordedOp,
} from '@app/checkers';
import { waitFor } from '@app/dev-servers';
import { EventStore, type StoredEvent } from '@app/event-store';

import { logEntries, runMixedLoad } from './mixed-load.js';
import { cm, configMap, ctx, openStore, type StoreFixture, wholeLog } from './store-fixture.js';

/**
 * The writer plans on what it remembers and pipelines batches. Another writer process on the
 * same log (a second API server) makes that memory stale at any moment: these tests show a
 * stale plan never commits and never decides a request's outcome.
 */
describe('two writer processes on one log', () => {
  let f: StoreFixture;
  let other: EventStore;
  let history: RecordedOp[];
  let log: StoredEvent[];

  beforeAll(async () => {
    f = await openStore({ pipelineDepth: 2 });
    other = await EventStore.open({ url: f.db.url });
    const load = { writers: 16, opsPerWriter: 40, keys: 24, namespace: 'shared' };
    const [a, b] = await Promise.all([
      runMixedLoad(f.store, { ...load, seed: 7 }),
      runMixedLoad(other, { ...load, seed: 8 }),
    ]);
    history = [...a, ...b];
    log = await wholeLog(f.store);
  });
  afterAll(async () => {
    await other.close();
    await f.close();
  });

  it('pipelined most batches, and redid stale ones under the lock', () => {
    const [a, b] = [f.store.batchStats(), other.batchStats()];
    expect(a.pipelined + b.pipelined).toBeGreaterThan(0);
    expect(a.replanned + b.replanned).toBeGreaterThan(0);
    expect(history.filter((o) => o.outcome.ok).length).toBeGreaterThan(200);
  });

  it('kept the log gapless, every acknowledged write in it, and nothing else', async () => {
    expect(
      checkGapless(
        log.map((e) => e.seq),
        (await f.store.head()).seq,
      ),
    ).toEqual([]);
    expect(checkAckedDurability(history, logEntries(log))).toEqual([]);
    expect(checkNoPhantoms(history, logEntries(log))).toEqual([]);
    expect(checkCasChains(history, logEntries(log))).toEqual([]);
  });

  it('left a projection the log replays to, and a chain that verifies', async () => {
    expect(await f.store.replay()).toMatchObject({ identical: true, differences: [], events: log.length });
    expect(await f.store.verify()).toMatchObject({ ok: true, checked: log.length });
  });
});

describe("a writer's memory after another process wrote", () => {
  let f: StoreFixture;
  let other: EventStore;
  beforeAll(async () => {
    f = await openStore({ pipelineDepth: 2 });
    other = await EventStore.open({ url: f.db.url });
  });
  afterAll(async () => {
    await other.close();
    await f.close();
  });

  it('accepts the precondition of the version the other process wrote (no false 409)', async () => {
    const key = cm('memory', 'precondition');
    await f.store.create(key, configMap('precondition', { v: '1' }), ctx());
    const theirs = await other.update(key, configMap('precondition', { v: '2' }), ctx('bob'));
    const ours = await f.store.update(key, configMap('precondition', { v: '3' }), ctx(), {
      resourceVersion: String(theirs.resourceVersion),
    });
    expect(ours.event?.type).toBe('MODIFIED');
    expect((await f.store.get(key))?.object.data).toEqual({ v: '3' });
  });

  it('judges an update of an object it never wrote (read back from jsonb) as it would its own', async () => {
    const key = { group: 'apps', resource: 'deployments', namespace: 'memory', name: 'read-back' };
    // Keys of mixed lengths: jsonb returns them in another order than canonical JSON's.
    const created = await other.create(
      key,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'read-back', labels: { application: 'web', a: 'b' } },
        spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      },
      ctx('bob'),
    );
    const head = await f.store.head();
    const same = await f.store.update(key, structuredClone(created.object), ctx());
    expect(same.event).toBeUndefined();
    expect(same.resourceVersion).toBe(created.resourceVersion);
    expect(await f.store.head()).toEqual(head);
    const status = await f.store.update(key, { ...created.object, status: { replicas: 1 } }, ctx());
    expect(status.event?.type).toBe('MODIFIED');
    expect(status.object.metadata.generation).toBe(1);
    const scaled = await f.store.update(key, { ...status.object, spec: { replicas: 2 } }, ctx());
    expect(scaled.object.metadata.generation).toBe(2);
    expect((await f.store.get(key))?.object.metadata.generation).toBe(2);
  });

  it('does not take a real change for a no-op because it remembers the old content', async () => {
    const key = cm('memory', 'noop');
    await f.store.create(key, configMap('noop', { v: 'original' }), ctx());
    await other.update(key, configMap('noop', { v: 'changed' }), ctx('bob'));
    const back = await f.store.update(key, configMap('noop', { v: 'original' }), ctx());
    expect(back.event?.type).toBe('MODIFIED');
    expect((await f.store.get(key))?.object.data).toEqual({ v: 'original' });
  });

  it('creates again what the other process deleted, and refuses what it created', async () => {
    const gone = cm('memory', 'gone');
    const taken = cm('memory', 'taken');
    await f.store.create(gone, configMap('gone'), ctx());
    await other.delete(gone, ctx('bob'));
    await other.create(taken, configMap('taken'), ctx('bob'));
    await expect(f.store.create(gone, configMap('gone'), ctx())).resolves.toMatchObject({
      event: { type: 'ADDED' },
    });
    await expect(f.store.create(taken, configMap('taken'), ctx())).rejects.toMatchObject({
      reason: 'AlreadyExists',
    });
  });

  it('plans a create believed absent without reading the object first', async () => {
    const before = f.store.batchStats().objectsRead;
    const created = await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        f.store.create(cm('belief', n), configMap(n), ctx(), undefined, { absent: true }),
      ),
    );
    expect(created.map((r) => r.event?.type)).toEqual(['ADDED', 'ADDED', 'ADDED']);
    expect(f.store.batchStats().objectsRead).toBe(before);
    // Without the belief, an object it does not remember is read.
    await f.store.create(cm('belief', 'd'), configMap('d'), ctx());
    expect(f.store.batchStats().objectsRead).toBe(before + 1);
  });

  it('answers AlreadyExists when the belief was wrong, and keeps its batch-mates', async () => {
    const start = (await f.store.head()).seq;
    await other.create(cm('belief', 'theirs'), configMap('theirs', { by: 'bob' }), ctx('bob'));
    const replanned = f.store.batchStats().replanned;
    const [wrong, mate] = await Promise.allSettled([
      f.store.create(cm('belief', 'theirs'), configMap('theirs', { by: 'alice' }), ctx(), undefined, {
        absent: true,
      }),
      f.store.create(cm('belief', 'mate'), configMap('mate'), ctx(), undefined, { absent: true }),
    ]);
    expect(wrong).toMatchObject({ status: 'rejected', reason: { reason: 'AlreadyExists' } });
    expect(mate).toMatchObject({ status: 'fulfilled', value: { event: { type: 'ADDED' } } });
    expect(f.store.batchStats().replanned).toBeGreaterThan(replanned);
    expect((await f.store.get(cm('belief', 'theirs')))?.object.data).toEqual({ by: 'bob' });
    const log = await f.store.events.after(start);
    expect(log.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED theirs', 'ADDED mate']);
    expect(await f.store.verify()).toMatchObject({ ok: true });
  });

  it('redoes every batch queued behind a stale one, in order, with no gap', async () => {
    const start = (await f.store.head()).seq;
    await f.store.create(cm('memory', 'queued'), configMap('queued', { n: '0' }), ctx());
    await other.create(cm('memory', 'foreign'), configMap('foreign'), ctx('bob'));
    const before = f.store.batchStats().replanned;
    // Two batches: the second is planned on the first, before the first fails its head check.
    const first = f.store.update(cm('memory', 'queued'), configMap('queued', { n: '1' }), ctx());
    await new Promise((r) => setImmediate(r));
    const second = f.store.update(cm('memory', 'queued'), configMap('queued', { n: '2' }), ctx());
    const [r1, r2] = await Promise.all([first, second]);
    expect(r2.resourceVersion).toBeGreaterThan(r1.resourceVersion);
    expect(f.store.batchStats().replanned).toBeGreaterThan(before);
    const log = await f.store.events.after(start);
    expect(
      checkGapless(
        [...Array(start).keys()].map((i) => i + 1).concat(log.map((e) => e.seq)),
        start + log.length,
      ),
    ).toEqual([]);
    expect((await f.store.get(cm('memory', 'queued')))?.object.data).toEqual({ n: '2' });
    expect(await f.store.verify()).toMatchObject({ ok: true });
  });
});

/**
 * A writer reads the objects it does not remember (another process wrote them) by primary key,
 * however the projection grew since that read was first planned.
 */
describe('reading objects the writer does not remember', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await openStore()));
  afterAll(() => f.close());

  /** Rows read by sequential scans of the projection, as Postgres counts them. */
  async function scannedRows(): Promise<number> {
    const [row] = await f.store.adminSql<{ rows: string }[]>`
      SELECT seq_tup_read AS rows FROM pg_stat_user_tables WHERE schemaname = 'wake' AND relname = 'resources'`;
    return Number(row.rows);
  }

  it('probes the primary key after the table grew, not a plan made while it was small', async () => {
    const other = await EventStore.open({ url: f.db.url });
    /** Updates through `other`, one batch each, of objects only `f` wrote: each is read first. */
    const updateUnremembered = async (names: string[]) => {
      for (const name of names)
        await other.update(cm('grow', name), configMap(name, { by: 'other' }), ctx('bob'));
    };
    const early = Array.from({ length: 8 }, (_, i) => `early-${i}`);
    const late = Array.from({ length: 10 }, (_, i) => `late-${i}`);
    const filler = Array.from({ length: 3000 }, (_, i) => `filler-${i}`);
    try {
      for (const name of [...early, ...late]) await f.store.create(cm('grow', name), configMap(name), ctx());
      // Enough reads on the same connections for Postgres to settle on a plan for 18 rows.
      await updateUnremembered(early);
      await Promise.all(
        Array.from({ length: 32 }, async (_, w) => {
          for (let i = w; i < filler.length; i += 32)
            await f.store.create(
              cm('grow', filler[i]),
              configMap(filler[i], { pad: 'x'.repeat(500) }),
              ctx(),
            );
        }),
      );
      const readsBefore = other.batchStats().objectsRead;
      await updateUnremembered(late);
      expect(other.batchStats().objectsRead - readsBefore).toBe(late.length);
    } finally {
      await other.close();
    }
    // A backend reports its counters at the latest when it exits, as `other`'s just did.
    let last = -1;
    const scanned = await waitFor(
      'the scan counters to settle',
      async () => {
        const now = await scannedRows();
        const settled = now === last;
        last = now;
        return settled ? now : undefined;
      },
      { intervalMs: 500 },
    );
    // Scans of the 18 first rows only; one scan of the grown table would read 3,000 more.
    expect(scanned).toBeLessThan(filler.length);
  });
});
