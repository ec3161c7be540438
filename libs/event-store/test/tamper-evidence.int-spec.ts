import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  CheckpointFile,
  Checkpointer,
  CheckpointSigner,
  eventHash,
  objectDigest,
  type StoredEvent,
} from '@app/event-store';

import { cm, configMap, ctx, openStore, type StoreFixture } from './store-fixture.js';

/** As a database superuser with triggers off (session_replication_role = replica). */
async function asSuperuser(
  f: StoreFixture,
  statements: (sql: StoreFixture['store']['adminSql']) => Promise<unknown>,
) {
  await f.store.adminSql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await statements(tx as unknown as StoreFixture['store']['adminSql']);
  });
}

describe('append-only enforcement', () => {
  let f: StoreFixture;
  beforeAll(async () => {
    f = await openStore();
    await f.store.create(cm('t', 'x'), configMap('x', { a: '1' }), ctx());
  });
  afterAll(() => f.close());

  it('the application role cannot UPDATE, DELETE or TRUNCATE events', async () => {
    for (const attempt of [
      f.store.sql`UPDATE wake.events SET verb = 'forged'`,
      f.store.sql`DELETE FROM wake.events`,
      f.store.sql`TRUNCATE wake.events`,
    ]) {
      await expect(attempt).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('even the owner is stopped by the append-only trigger', async () => {
    await expect(f.store.adminSql`UPDATE wake.events SET verb = 'forged'`).rejects.toThrow(/append-only/);
    await expect(f.store.adminSql`DELETE FROM wake.events`).rejects.toThrow(/append-only/);
    expect((await f.store.events.at(1))?.verb).toBe('create');
  });
});

describe('tamper evidence', () => {
  let f: StoreFixture;
  let dir: string;
  let signer: CheckpointSigner;
  let file: CheckpointFile;

  beforeAll(async () => {
    f = await openStore();
    dir = await mkdtemp(join(tmpdir(), 'wake-cp-'));
    signer = await CheckpointSigner.fromFile(join(dir, 'checkpoint-key.pem'));
    file = new CheckpointFile(join(dir, 'checkpoints.jsonl'));
    const checkpointer = new Checkpointer(() => f.store.head(), signer, file);
    for (let i = 0; i < 30; i++) {
      await f.store.create(cm('t', `o${i}`), configMap(`o${i}`, { i: String(i) }), ctx());
      if (i % 10 === 9) await checkpointer.checkpoint();
    }
    expect(await checkpointer.checkpoint()).toBeUndefined(); // nothing new since the last one
  });
  afterAll(async () => {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a clean log verifies against its signed checkpoints', async () => {
    const checkpoints = await file.readAll();
    expect(checkpoints.map((c) => c.seq)).toEqual([10, 20, 30]);
    expect(await f.store.verify({ checkpoints, signer })).toMatchObject({
      ok: true,
      checked: 30,
      checkpointsChecked: 3,
    });
  });

  it('a forged checkpoint signature is rejected', async () => {
    const [first, ...rest] = await file.readAll();
    const forged = { ...first, hash: 'ab'.repeat(32) };
    const report = await f.store.verify({ checkpoints: [forged, ...rest], signer });
    expect(report).toMatchObject({
      ok: false,
      firstBadSeq: 10,
      reason: expect.stringMatching(/invalid signature/),
    });
  });

  it('a superuser UPDATE of one payload is caught at that seq', async () => {
    await asSuperuser(
      f,
      (sql) => sql`UPDATE wake.events SET object = jsonb_set(object, '{data,i}', '"evil"') WHERE seq = 17`,
    );
    expect(await f.store.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 17,
      reason: 'payload does not match its digest',
    });
    await asSuperuser(
      f,
      (sql) => sql`UPDATE wake.events SET object = jsonb_set(object, '{data,i}', '"16"') WHERE seq = 17`,
    );
    expect(await f.store.verify()).toMatchObject({ ok: true });
  });

  it('a superuser UPDATE of who made a change is caught at that seq', async () => {
    await asSuperuser(
      f,
      (sql) => sql`UPDATE wake.events SET actor = '{"user":"mallory","groups":[]}' WHERE seq = 5`,
    );
    expect(await f.store.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: 'hash does not match the event',
    });
  });

  it('a suffix rewritten and re-chained consistently passes the chain alone but not the checkpoints', async () => {
    // Restore seq 5, then rewrite seq 12..30 as an attacker would: new payload, new digests,
    // hashes recomputed link by link, head row updated.
    await asSuperuser(
      f,
      (sql) => sql`UPDATE wake.events SET actor = ${sql.json(ctx().actor as never)} WHERE seq = 5`,
    );
    expect(await f.store.verify()).toMatchObject({ ok: true });
    const log = await f.store.events.after(0, 100);
    let prev = log[10].hash;
    const rewritten: StoredEvent[] = [];
    for (const e of log.slice(11)) {
      const object = e.seq === 12 ? { ...e.object!, data: { i: 'rewritten' } } : e.object!;
      const next = { ...e, object, objectDigest: objectDigest(object), prevHash: prev };
      next.hash = eventHash(prev, next);
      prev = next.hash;
      rewritten.push(next);
    }
    await asSuperuser(f, async (sql) => {
      for (const e of rewritten) {
        await sql`UPDATE wake.events SET object = ${sql.json(e.object as never)}, object_digest = decode(${e.objectDigest}, 'hex'),
                  prev_hash = decode(${e.prevHash}, 'hex'), hash = decode(${e.hash}, 'hex') WHERE seq = ${e.seq}`;
      }
      await sql`UPDATE wake.log_head SET hash = decode(${prev}, 'hex') WHERE id = 1`;
    });

    expect(await f.store.verify()).toMatchObject({ ok: true }); // the chain alone cannot tell
    const report = await f.store.verify({ checkpoints: await file.readAll(), signer });
    expect(report).toMatchObject({
      ok: false,
      firstBadSeq: 11,
      reason: expect.stringMatching(/after seq 10 was rewritten.*seq 20/),
    });
  });

  it('a deleted tail is caught against a checkpoint signed beyond the new end', async () => {
    const signedAt30 = (await file.readAll()).filter((c) => c.seq === 30);
    await asSuperuser(f, async (sql) => {
      await sql`DELETE FROM wake.events WHERE seq > 25`;
      const [last] = await sql<
        { hash: string }[]
      >`SELECT encode(hash, 'hex') AS hash FROM wake.events WHERE seq = 25`;
      await sql`UPDATE wake.log_head SET seq = 25, hash = decode(${last.hash}, 'hex') WHERE id = 1`;
    });
    const report = await f.store.verify({ checkpoints: signedAt30, signer });
    expect(report).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/ends at 25 but a checkpoint was signed at seq 30/),
    });
  });
});
