import { type Sql, type TransactionSql } from 'postgres';

import { eventHash, objectDigest } from '../chain/index.js';
import { keyId, type ObjectKey, type StoredEvent } from '../model/index.js';
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

/** Thrown when a conditional projection write touched fewer rows than planned. */
export class ProjectionDivergedError extends Error {}

const NOTIFY_CHANNEL = 'wake_events';
export { NOTIFY_CHANNEL };

/**
 * Commits one batch of mutations as one transaction: lock the log head, read the current
 * state of every object the batch touches, plan each mutation in order, then append the
 * events and apply the projection changes in a single pipelined round trip.
 *
 * The head lock is what makes the log gapless and commit-ordered (invariant 2). The
 * projection writes are additionally conditional on the resourceVersion read under that lock
 * (invariant 3): if anything else changed a row, the batch aborts instead of losing an update.
 */
export class BatchWriter {
  constructor(private readonly sql: Sql) {}

  async commit(batch: Mutation[]): Promise<Outcome<MutationResult>[]> {
    return this.sql.begin((tx) => this.commitIn(tx, batch));
  }

  private async commitIn(tx: TransactionSql, batch: Mutation[]): Promise<Outcome<MutationResult>[]> {
    const keys = uniqueKeys(batch.map((m) => m.key));
    const [heads, rows] = await Promise.all([
      tx<HeadRow[]>`SELECT seq, encode(hash, 'hex') AS hash, at FROM wake.log_head WHERE id = 1 FOR UPDATE`,
      tx<ProjectionRow[]>`
        SELECT r.api_group, r.resource, r.namespace, r.name, r.uid, r.resource_version, r.object
          FROM wake.resources r
          JOIN jsonb_to_recordset(${JSON.stringify(keys)}::text::jsonb) AS k(g text, r text, ns text, n text)
            ON r.api_group = k.g AND r.resource = k.r AND r.namespace = k.ns AND r.name = k.n`,
    ]);
    const head = heads[0];
    const initial = new Map<string, CurrentObject | undefined>();
    for (const r of rows) {
      const key = { group: r.api_group, resource: r.resource, namespace: r.namespace, name: r.name };
      initial.set(keyId(key), { uid: r.uid, resourceVersion: Number(r.resource_version), object: r.object });
    }
    const state = new Map(initial);

    // Never let event time run backwards along the log, whatever the clocks do: "as of
    // 14:02" maps to a seq by a monotonic search.
    const at = new Date(Math.max(Date.now(), head.at.getTime())).toISOString();
    let seq = Number(head.seq);
    let hash = head.hash;
    const events: StoredEvent[] = [];
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
        objectDigest: objectDigest(plan.object),
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
      state.set(id, plan.next);
      return { ok: true, value: { object: plan.object, resourceVersion: seq, event } };
    });

    if (events.length > 0) await this.write(tx, events, initial, state, { seq, hash, at });
    return outcomes;
  }

  private async write(
    tx: TransactionSql,
    events: StoredEvent[],
    initial: Map<string, CurrentObject | undefined>,
    final: Map<string, CurrentObject | undefined>,
    head: { seq: number; hash: string; at: string },
  ): Promise<void> {
    const inserts: object[] = [];
    const updates: object[] = [];
    const deletes: object[] = [];
    const keyById = new Map(events.map((e) => [keyId(e), e]));
    for (const [id, after] of final) {
      const before = initial.get(id);
      const e = keyById.get(id);
      if (!e || before === after) continue;
      const key = { g: e.group, r: e.resource, ns: e.namespace, n: e.name };
      if (!before && after)
        inserts.push({ ...key, uid: after.uid, rv: after.resourceVersion, object: after.object });
      else if (before && after) {
        updates.push({
          ...key,
          uid: after.uid,
          rv: after.resourceVersion,
          object: after.object,
          expected: before.resourceVersion,
        });
      } else if (before && !after) deletes.push({ ...key, expected: before.resourceVersion });
    }

    const results = await Promise.all([
      tx`
        INSERT INTO wake.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                                 actor, verb, request_id, user_agent, source_ip, cause, prev_hash, hash)
        SELECT x.seq, x.at::timestamptz, x.type, x.group, x.resource, x.namespace, x.name, x.uid, x.object,
               decode(x."objectDigest", 'hex'), x.actor, x.verb, x."requestId", x."userAgent", x."sourceIp",
               x.cause, decode(x."prevHash", 'hex'), decode(x.hash, 'hex')
          FROM jsonb_to_recordset(${JSON.stringify(events)}::text::jsonb) AS x(
               seq bigint, at text, type text, "group" text, resource text, namespace text, name text, uid uuid,
               object jsonb, "objectDigest" text, actor jsonb, verb text, "requestId" text, "userAgent" text,
               "sourceIp" text, cause bigint, "prevHash" text, hash text)`,
      inserts.length
        ? tx`
        INSERT INTO wake.resources (api_group, resource, namespace, name, uid, resource_version, object)
        SELECT x.g, x.r, x.ns, x.n, x.uid, x.rv, x.object
          FROM jsonb_to_recordset(${JSON.stringify(inserts)}::text::jsonb)
            AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb)
        ON CONFLICT DO NOTHING`
        : undefined,
      updates.length
        ? tx`
        UPDATE wake.resources t SET uid = x.uid, resource_version = x.rv, object = x.object
          FROM jsonb_to_recordset(${JSON.stringify(updates)}::text::jsonb)
            AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb, expected bigint)
         WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
           AND t.resource_version = x.expected`
        : undefined,
      deletes.length
        ? tx`
        DELETE FROM wake.resources t
         USING jsonb_to_recordset(${JSON.stringify(deletes)}::text::jsonb)
            AS x(g text, r text, ns text, n text, expected bigint)
         WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
           AND t.resource_version = x.expected`
        : undefined,
      tx`UPDATE wake.log_head SET seq = ${head.seq}, hash = decode(${head.hash}, 'hex'), at = ${head.at}::timestamptz
          WHERE id = 1`,
      tx`SELECT pg_notify(${NOTIFY_CHANNEL}, ${String(head.seq)})`,
    ]);
    const [, inserted, updated, deleted] = results;
    const expected = [inserts.length, updates.length, deletes.length];
    const actual = [inserted?.count ?? 0, updated?.count ?? 0, deleted?.count ?? 0];
    if (expected.some((n, i) => n !== actual[i])) {
      throw new ProjectionDivergedError(
        `projection rows changed under the log-head lock (planned insert/update/delete ${expected.join('/')}, ` +
          `applied ${actual.join('/')}); the batch was rolled back`,
      );
    }
  }
}

function uniqueKeys(keys: ObjectKey[]): { g: string; r: string; ns: string; n: string }[] {
  const seen = new Map<string, { g: string; r: string; ns: string; n: string }>();
  for (const k of keys) seen.set(keyId(k), { g: k.group, r: k.resource, ns: k.namespace, n: k.name });
  return [...seen.values()];
}
