import { randomBytes } from 'node:crypto';

import { type Sql, type TransactionSql } from 'postgres';

export interface ReplayOptions {
  /** Fold only events with seq ≤ upTo (default: the head at the start of the replay). */
  upTo?: number;
  /** Keep the rebuilt schema for inspection instead of dropping it. */
  keep?: boolean;
  /** Differences to report at most. */
  maxDifferences?: number;
}

export interface ObjectRef {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface ReplayReport {
  schema: string;
  upTo: number;
  events: number;
  objects: number;
  liveObjects: number;
  /** True when the rebuilt projection equals the live one row for row (only when upTo is the head). */
  identical: boolean;
  differences: (ObjectRef & { side: 'live-only' | 'replay-only' })[];
  /** Objects whose last version's payload is gone, so they could not be rebuilt. */
  missingPayloads: number;
  /** The first event that breaks the log's own rules (ADDED after ADDED, MODIFIED after DELETED, rv ≠ seq...). */
  malformed?: { seq: number; reason: string };
  /** Where the time went: the fold into the fresh schema, the compare, the grammar pass (beside them). */
  phases: { foldMs: number; compareMs: number; grammarMs: number };
  ms: number;
}

/** A projection row's columns: its key, then what the compare checks under that key. */
const COLUMNS = 'api_group, resource, namespace, name, uid, resource_version, object';

/**
 * Rebuilds every projection from the log into a fresh schema and compares it with the live
 * projection in the same snapshot. Each event carries the full object after its change, so
 * folding the log is "the last event of each object, unless it is a deletion"; Postgres does
 * that set-wise in one pass over the log, which is what makes a million-event replay take
 * seconds.
 */
export class ProjectionReplayer {
  constructor(private readonly sql: Sql) {}

  async replay(options: ReplayOptions = {}): Promise<ReplayReport> {
    const started = performance.now();
    const schema = `wake_replay_${randomBytes(4).toString('hex')}`;
    const report = await this.sql.begin('ISOLATION LEVEL REPEATABLE READ', async (tx) => {
      const [h] = await tx<{ seq: number }[]>`SELECT seq FROM wake.log_head WHERE id = 1`;
      const head = Number(h.seq);
      const upTo = Math.min(options.upTo ?? head, head);
      // The grammar pass reads the whole log too: run it beside the fold, on a second
      // connection sharing this transaction's snapshot, so both cores work.
      const [{ snapshot }] = await tx<{ snapshot: string }[]>`SELECT pg_export_snapshot() AS snapshot`;
      // Room to sort and hash in memory: replay is a rare, admin-run audit over the whole log.
      await tx.unsafe(`SET LOCAL work_mem = '256MB'`);
      const grammar = this.grammarPass(snapshot, upTo);
      grammar.catch(() => undefined);
      const t0 = performance.now();
      await tx.unsafe(`CREATE SCHEMA ${schema}`);
      await tx.unsafe(`CREATE TABLE ${schema}.resources (LIKE wake.resources INCLUDING ALL)`);
      const [{ count: missing }] = await tx.unsafe<{ count: number }[]>(
        // Each object's last event is found by hashing keys (a GROUP BY), not by sorting the
        // log on four text columns (a DISTINCT ON: 1.7 s of 200,000 events went to that sort),
        // then fetched by one primary-key probe each: a plain join hashed every event of the
        // log, payloads and all (500 MB for 400,000 events). The survivors, payloads included,
        // are kept once for the insert and the count (spilling to disk beyond work_mem).
        `WITH last AS MATERIALIZED (
           SELECT e.api_group, e.resource, e.namespace, e.name, e.uid, e.seq, e.type, e.object
             FROM (SELECT max(seq) AS seq FROM wake.events WHERE seq <= $1
                    GROUP BY api_group, resource, namespace, name) m
            CROSS JOIN LATERAL (SELECT * FROM wake.events e WHERE e.seq = m.seq LIMIT 1) e),
         ins AS (
           INSERT INTO ${schema}.resources (${COLUMNS})
           SELECT api_group, resource, namespace, name, uid, seq, object
             FROM last WHERE type <> 'DELETED' AND object IS NOT NULL RETURNING 1)
         SELECT count(*)::int AS count FROM last WHERE type <> 'DELETED' AND object IS NULL`,
        [upTo],
      );
      const [{ objects }] = await tx.unsafe<{ objects: number }[]>(
        `SELECT count(*)::int AS objects FROM ${schema}.resources`,
      );
      const [{ live }] = await tx<{ live: number }[]>`SELECT count(*)::int AS live FROM wake.resources`;
      const t1 = performance.now();
      const differences =
        upTo === head ? await this.differences(tx, schema, options.maxDifferences ?? 20) : [];
      const t2 = performance.now();
      const { events, malformed, ms: grammarMs } = await grammar;
      if (!options.keep) await tx.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      return {
        schema,
        upTo,
        events,
        objects,
        liveObjects: live,
        identical: upTo === head && differences.length === 0 && missing === 0,
        differences,
        missingPayloads: missing,
        ...(malformed ? { malformed } : {}),
        phases: {
          foldMs: Math.round(t1 - t0),
          compareMs: Math.round(t2 - t1),
          grammarMs: Math.round(grammarMs),
        },
      };
    });
    return { ...report, ms: performance.now() - started };
  }

  /**
   * The rows of either projection that the other lacks or holds differently (a row that
   * differs is on both sides), at most `max` a side. One join of the two on their primary
   * keys: two EXCEPT ALLs hashed or sorted every row of each, payloads and all.
   */
  private async differences(
    tx: TransactionSql,
    schema: string,
    max: number,
  ): Promise<ReplayReport['differences']> {
    const rows = await tx.unsafe<(ObjectRef & { side: 'live-only' | 'replay-only' })[]>(
      `SELECT side, "group", resource, namespace, name
         FROM (SELECT s.side, d.*, row_number() OVER (PARTITION BY s.side) AS n
                 FROM (SELECT api_group AS "group", resource, namespace, name,
                              l.uid IS NOT NULL AS live, r.uid IS NOT NULL AS replayed
                         FROM wake.resources l FULL JOIN ${schema}.resources r USING (api_group, resource, namespace, name)
                        WHERE (l.uid, l.resource_version, l.object) IS DISTINCT FROM (r.uid, r.resource_version, r.object)) d
                CROSS JOIN LATERAL (VALUES ('live-only', d.live), ('replay-only', d.replayed)) AS s(side, present)
                WHERE s.present) x
        WHERE n <= $1
        ORDER BY side`,
      [max],
    );
    return rows.map((r) => ({ ...r }));
  }

  /**
   * Counts the events and finds the first that breaks the log's rules, in the snapshot
   * `snapshot` (exported by the fold): per object ADDED (MODIFIED)* DELETED? with one uid, and
   * each payload's resourceVersion equal to its seq. Where one event breaks both, the grammar
   * is named. Two passes over the log: the grammar needs it ordered per object, and that sort
   * carries narrow rows only (with the payload's resourceVersion in them, Postgres sorted whole
   * rows and spilled them to disk); the count and rv = seq need no order, so they share a scan.
   */
  private grammarPass(
    snapshot: string,
    upTo: number,
  ): Promise<{ events: number; malformed?: { seq: number; reason: string }; ms: number }> {
    const t0 = performance.now();
    return this.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      await tx.unsafe(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, '')}'`);
      await tx.unsafe(`SET LOCAL work_mem = '256MB'`);
      const [[{ events, rvBreak }], [grammar]] = await Promise.all([
        tx.unsafe<{ events: number; rvBreak: number | null }[]>(
          `SELECT count(*)::int AS events, min(seq) FILTER (WHERE rv <> seq::text) AS "rvBreak"
             FROM (SELECT seq, object -> 'metadata' ->> 'resourceVersion' AS rv
                     FROM wake.events WHERE seq <= $1) e`,
          [upTo],
        ),
        tx.unsafe<{ seq: number; reason: string }[]>(
          `SELECT seq, CASE
               WHEN type = 'ADDED' AND prev_type IS NOT NULL AND prev_type <> 'DELETED' THEN 'ADDED while the object exists'
               WHEN type <> 'ADDED' AND (prev_type IS NULL OR prev_type = 'DELETED') THEN type || ' of an object that does not exist'
               ELSE 'uid changed without a re-creation' END AS reason
             FROM (SELECT seq, type, uid, lag(type) OVER w AS prev_type, lag(uid) OVER w AS prev_uid
                     FROM wake.events WHERE seq <= $1
                   WINDOW w AS (PARTITION BY api_group, resource, namespace, name ORDER BY seq)) x
            WHERE (type = 'ADDED' AND prev_type IS NOT NULL AND prev_type <> 'DELETED')
               OR (type <> 'ADDED' AND (prev_type IS NULL OR prev_type = 'DELETED' OR prev_uid <> uid))
            ORDER BY seq LIMIT 1`,
          [upTo],
        ),
      ]);
      let malformed: { seq: number; reason: string } | undefined;
      if (grammar && (rvBreak === null || Number(grammar.seq) <= Number(rvBreak))) {
        malformed = { seq: Number(grammar.seq), reason: grammar.reason };
      } else if (rvBreak !== null) {
        const [{ rv }] = await tx<{ rv: string }[]>`
          SELECT object -> 'metadata' ->> 'resourceVersion' AS rv FROM wake.events WHERE seq = ${rvBreak}`;
        malformed = { seq: Number(rvBreak), reason: `object resourceVersion ${rv} differs from its seq` };
      }
      return { events, malformed, ms: performance.now() - t0 };
    });
  }
}
