import { type ReservedSql, type Sql } from 'postgres';

import { StatusError } from '@app/api';

import { canonicalJson, digestOfCanonical, eventHash } from '../chain/index.js';
import { formatKey, keyId, type ObjectKey, type StoredEvent } from '../model/index.js';
import { type Outcome } from './group-committer.js';
import { planMutation } from './mutation-planner.js';
import { type CurrentObject, type Mutation, type MutationResult } from './mutation.js';

interface HeadRow {
  seq: number;
  hash: string;
  at: Date;
}

interface ProjectionRow {
  api_group: string;
  resource: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: number;
  object: CurrentObject['object'];
}

interface KeyRow {
  g: string;
  r: string;
  ns: string;
  n: string;
}

export const NOTIFY_CHANNEL = 'wake_events';

/**
 * Commits one batch of mutations as one transaction in two round trips:
 *
 *   1. BEGIN; lock the log head; read the current state of every object the batch touches.
 *   2. Append the events, apply the projection changes, advance the head, NOTIFY, COMMIT —
 *      one statement plus COMMIT, pipelined.
 *
 * Between the two, each mutation is planned in order against the state read under the lock.
 * The head lock is what makes the log gapless and commit-ordered (invariant 2). The projection
 * writes are additionally conditional on the resourceVersion read under that lock (invariant
 * 3): if a row changed anyway (or the head did not advance), `assert_applied` raises, the statement fails and the pipelined
 * COMMIT turns into a rollback, so nothing half-done is ever committed.
 */
export class BatchWriter {
  private conn?: ReservedSql;

  constructor(private readonly sql: Sql) {}

  async commit(batch: Mutation[]): Promise<Outcome<MutationResult>[]> {
    const conn = (this.conn ??= await this.sql.reserve());
    try {
      return await this.commitOn(conn, batch);
    } catch (e) {
      // The connection may be mid-transaction or broken: never reuse it.
      this.conn = undefined;
      await conn`ROLLBACK`.catch(() => {});
      conn.release();
      throw e;
    }
  }

  release(): void {
    this.conn?.release();
    this.conn = undefined;
  }

  private async commitOn(conn: ReservedSql, batch: Mutation[]): Promise<Outcome<MutationResult>[]> {
    const keys = uniqueKeys(batch.map((m) => m.key));
    const [, heads, rows] = await Promise.all([
      conn`BEGIN`,
      conn<HeadRow[]>`SELECT seq, encode(hash, 'hex') AS hash, at FROM wake.log_head WHERE id = 1 FOR UPDATE`,
      // A separate statement after the lock: in READ COMMITTED it takes a fresh snapshot,
      // which includes every append that committed before we got the head.
      conn<ProjectionRow[]>`
        SELECT r.api_group, r.resource, r.namespace, r.name, r.uid, r.resource_version, r.object
          FROM wake.resources r
          JOIN jsonb_to_recordset(${JSON.stringify(keys)}::text::jsonb) AS k(g text, r text, ns text, n text)
            ON r.api_group = k.g AND r.resource = k.r AND r.namespace = k.ns AND r.name = k.n`,
    ]);
    const head = heads[0];
    const initial = new Map<string, CurrentObject | undefined>();
    for (const r of rows) {
      const key = { group: r.api_group, resource: r.resource, namespace: r.namespace, name: r.name };
      initial.set(keyId(key), { uid: r.uid, resourceVersion: r.resource_version, object: r.object });
    }
    const state = new Map(initial);

    // Never let event time run backwards along the log, whatever the clocks do: "as of
    // 14:02" maps to a seq by a monotonic search.
    const at = new Date(Math.max(Date.now(), head.at.getTime())).toISOString();
    let seq = head.seq;
    let hash = head.hash;
    const events: StoredEvent[] = [];
    // Each object is serialised once: its canonical JSON is hashed for the chain and is also
    // the text embedded in the statement (canonical JSON is valid JSON).
    const canonical = new Map<StoredEvent, string>();
    const outcomes: Outcome<MutationResult>[] = batch.map((m) => {
      const id = keyId(m.key);
      const plan = planMutation(m, state.get(id), seq + 1, at);
      if (plan.kind === 'error') return { ok: false, error: plan.error };
      if (plan.kind === 'noop') {
        return {
          ok: true,
          value: { object: plan.current.object, resourceVersion: plan.current.resourceVersion },
        };
      }
      const text = canonicalJson(plan.object);
      if (text.includes('\\u0000')) {
        // jsonb cannot hold U+0000; refuse this request alone instead of failing the batch.
        return {
          ok: false,
          error: StatusError.badRequest(
            `${formatKey(m.key)}: strings may not contain the NUL character (\\u0000)`,
          ),
        };
      }
      seq += 1;
      const header = {
        seq,
        at,
        type: plan.type,
        group: m.key.group,
        resource: m.key.resource,
        namespace: m.key.namespace,
        name: m.key.name,
        uid: plan.uid,
        objectDigest: digestOfCanonical(text),
        actor: m.ctx.actor,
        verb: m.ctx.verb,
        requestId: m.ctx.requestId ?? null,
        userAgent: m.ctx.userAgent ?? null,
        sourceIp: m.ctx.sourceIp ?? null,
        cause: m.ctx.cause ?? null,
      };
      const event: StoredEvent = {
        ...header,
        object: plan.object,
        prevHash: hash,
        hash: eventHash(hash, header),
      };
      hash = event.hash;
      events.push(event);
      canonical.set(event, text);
      state.set(id, plan.next);
      return { ok: true, value: { object: plan.object, resourceVersion: seq, event } };
    });

    if (events.length === 0) {
      await conn`COMMIT`;
      return outcomes;
    }
    const changes = projectionChanges(events, canonical, initial, state);
    const [, commit] = await Promise.all([
      conn`
        WITH appended AS (
          INSERT INTO wake.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                                   actor, verb, request_id, user_agent, source_ip, cause, prev_hash, hash)
          SELECT x.seq, x.at::timestamptz, x.type, x.group, x.resource, x.namespace, x.name, x.uid, x.object,
                 decode(x."objectDigest", 'hex'), x.actor, x.verb, x."requestId", x."userAgent", x."sourceIp",
                 x.cause, decode(x."prevHash", 'hex'), decode(x.hash, 'hex')
            FROM jsonb_to_recordset(${eventsJson(events, canonical)}::text::jsonb) AS x(
                 seq bigint, at text, type text, "group" text, resource text, namespace text, name text, uid uuid,
                 object jsonb, "objectDigest" text, actor jsonb, verb text, "requestId" text, "userAgent" text,
                 "sourceIp" text, cause bigint, "prevHash" text, hash text)
          RETURNING 1),
        inserted AS (
          INSERT INTO wake.resources (api_group, resource, namespace, name, uid, resource_version, object)
          SELECT x.g, x.r, x.ns, x.n, x.uid, x.rv, x.object
            FROM jsonb_to_recordset(${changes.inserts}::text::jsonb)
              AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb)
          ON CONFLICT DO NOTHING
          RETURNING 1),
        updated AS (
          UPDATE wake.resources t SET uid = x.uid, resource_version = x.rv, object = x.object
            FROM jsonb_to_recordset(${changes.updates}::text::jsonb)
              AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb, expected bigint)
           WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
             AND t.resource_version = x.expected
          RETURNING 1),
        deleted AS (
          DELETE FROM wake.resources t
           USING jsonb_to_recordset(${changes.deletes}::text::jsonb)
              AS x(g text, r text, ns text, n text, expected bigint)
           WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
             AND t.resource_version = x.expected
          RETURNING 1),
        advanced AS (
          UPDATE wake.log_head SET seq = ${seq}, hash = decode(${hash}, 'hex'), at = ${at}::timestamptz
           WHERE id = 1
          RETURNING 1)
        SELECT wake.assert_applied(
                 ${[...changes.planned, events.length, 1]}::int[],
                 ARRAY[(SELECT count(*) FROM inserted), (SELECT count(*) FROM updated), (SELECT count(*) FROM deleted),
                       (SELECT count(*) FROM appended), (SELECT count(*) FROM advanced)]::int[]),
               pg_notify(${NOTIFY_CHANNEL}, ${String(seq)})`,
      conn`COMMIT`,
    ]);
    // A failed statement above rejects Promise.all; if it somehow did not, a COMMIT of an
    // aborted transaction reports ROLLBACK, and the batch must not count as committed.
    if (commit.command !== 'COMMIT')
      throw new Error(`append transaction ended with ${commit.command}, not COMMIT`);
    return outcomes;
  }
}

interface ProjectionChanges {
  /** JSON arrays of rows, for jsonb_to_recordset. */
  inserts: string;
  updates: string;
  deletes: string;
  /** How many rows each of the three must touch. */
  planned: number[];
}

/** `row` as JSON with `object` spliced in from its canonical text (no second serialisation). */
function withObject(row: object, object: string | undefined): string {
  const head = JSON.stringify(row);
  return object === undefined ? head : `${head.slice(0, -1)},"object":${object}}`;
}

/** The events as a JSON array for jsonb_to_recordset, payloads from their canonical text. */
function eventsJson(events: StoredEvent[], canonical: Map<StoredEvent, string>): string {
  return `[${events.map((e) => withObject({ ...e, object: undefined }, canonical.get(e))).join(',')}]`;
}

/** The net change of each object from its state before the batch to its state after it. */
function projectionChanges(
  events: StoredEvent[],
  canonical: Map<StoredEvent, string>,
  initial: Map<string, CurrentObject | undefined>,
  final: Map<string, CurrentObject | undefined>,
): ProjectionChanges {
  const inserts: string[] = [];
  const updates: string[] = [];
  const deletes: string[] = [];
  const lastEvent = new Map(events.map((e) => [keyId(e), e]));
  for (const [id, after] of final) {
    const before = initial.get(id);
    const e = lastEvent.get(id);
    if (!e || before === after) continue;
    const key: KeyRow = { g: e.group, r: e.resource, ns: e.namespace, n: e.name };
    // When an object ends the batch present, its last event carries exactly its final state.
    if (!before && after)
      inserts.push(withObject({ ...key, uid: after.uid, rv: after.resourceVersion }, canonical.get(e)));
    else if (before && after) {
      updates.push(
        withObject(
          { ...key, uid: after.uid, rv: after.resourceVersion, expected: before.resourceVersion },
          canonical.get(e),
        ),
      );
    } else if (before && !after) deletes.push(JSON.stringify({ ...key, expected: before.resourceVersion }));
  }
  return {
    inserts: `[${inserts.join(',')}]`,
    updates: `[${updates.join(',')}]`,
    deletes: `[${deletes.join(',')}]`,
    planned: [inserts.length, updates.length, deletes.length],
  };
}

function uniqueKeys(keys: ObjectKey[]): KeyRow[] {
  const seen = new Map<string, KeyRow>();
  for (const k of keys) seen.set(keyId(k), { g: k.group, r: k.resource, ns: k.namespace, n: k.name });
  return [...seen.values()];
}
