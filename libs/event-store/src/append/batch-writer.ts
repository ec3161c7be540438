import { type ReservedSql, type Sql } from 'postgres';

import { keyId, type ObjectKey, type StoredObject } from '../model/index.js';
import { type BatchPlan, type KnownState, type LogHead, planBatch } from './batch-planner.js';
import { type BatchStart, type Outcome } from './group-committer.js';
import { type Mutation, type MutationResult } from './mutation.js';
import { objectText } from './object-text.js';
import { WriterMemory } from './writer-memory.js';

/** Makes room in the log's partitions; see PartitionManager. */
export interface PartitionRoom {
  ensure(upTo: number, force?: boolean): Promise<void>;
  isMissingPartition(e: unknown): boolean;
}

interface ObjectRow {
  api_group: string;
  resource: string;
  namespace: string;
  name: string;
  uid: string;
  resource_version: number;
  json: string;
}

/**
 * How the writer's batches went; `replanned` counts pipelined batches redone under the lock,
 * `objectsRead` the objects a pipelined batch read before it could be planned.
 */
export interface WriterStats {
  pipelined: number;
  underLock: number;
  replanned: number;
  objectsRead: number;
}

/**
 * Appends batches of mutations, each as one transaction, in one of two ways.
 *
 * **Pipelined** (the steady state): the batch is planned against what the writer remembers
 * (`WriterMemory`: the head and recently written objects; objects it does not remember are
 * read first, without a lock), and sent as one statement, its own transaction
 * (`wake.append_batch`): lock the head *if it still has the seq and hash the plan started
 * from*, write, check — one round trip, no client work while the lock is held. The next batch is planned on top of this one and queued behind it on the same
 * connection before this one has committed, so Node plans while Postgres writes.
 *
 * **Under the lock** (the first batch, and any batch after a pipelined one failed): BEGIN; lock
 * the head; read the objects; plan; write; COMMIT — two round trips, on its own connection.
 *
 * Either way the head row lock makes seq gapless and commit-ordered (invariant 2), and the
 * projection writes are conditional on the resourceVersions the plan assumed (invariant 3):
 * `assert_applied` aborts the transaction if any row differs, so nothing half-done commits.
 */
export class BatchWriter {
  readonly stats: WriterStats = { pipelined: 0, underLock: 0, replanned: 0, objectsRead: 0 };
  private readonly memory: WriterMemory;
  /** A promise, so that two batches sent at once share the one connection. */
  private pipe?: Promise<ReservedSql>;
  private locked?: ReservedSql;
  /** Settles when every batch started so far has settled (including its retry). */
  private tail: Promise<unknown> = Promise.resolve();
  /** Serialises planning: each batch is planned on top of the one before. */
  private planning: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly partitions: PartitionRoom,
    memoryCapacity: number,
  ) {
    this.memory = new WriterMemory(memoryCapacity);
  }

  /**
   * Plans and sends `batch`. Resolves once the next batch may be planned, to the promise of
   * this batch's outcomes; batches settle in the order they were started.
   */
  start(batch: Mutation[]): Promise<BatchStart<MutationResult>> {
    const started = this.planning.then(() => this.startNow(batch));
    this.planning = started.catch(() => {});
    return started;
  }

  async close(): Promise<void> {
    await this.tail;
    (await this.pipe)?.release();
    this.locked?.release();
    this.pipe = this.locked = undefined;
  }

  private async startNow(batch: Mutation[]): Promise<BatchStart<MutationResult>> {
    const previous = this.tail;
    const head = this.memory.head;
    if (!head) {
      // Nothing to plan on: go under the lock once everything before has settled, and hold
      // the next batch back until then (it will plan on what this one learns).
      const done = previous.then(() => this.commitLocked(batch));
      this.tail = done.catch(() => {});
      await this.tail;
      return { done };
    }

    await this.partitions.ensure(head.seq + batch.length);
    const keys = uniqueKeys(batch);
    const believedAbsent = absentByBelief(batch);
    const unknown = keys.filter((k) => this.memory.get(keyId(k)) === undefined);
    const toRead = unknown.filter((k) => !believedAbsent.has(keyId(k)));
    if (toRead.length > 0) {
      this.stats.objectsRead += toRead.length;
      const read = statesOf(toRead, await objectRows(this.sql, toRead));
      // The belief moved while we read (a batch ahead failed): plan again on what it is now.
      if (this.memory.head !== head) return this.startNow(batch);
      // A stale read is harmless: the write is conditional on the head and resourceVersions.
      this.memory.learn(read);
    }
    // Unread and believed absent: null. If one exists after all, the plan's insert of it fails
    // in the database and the batch is done again under the lock, where everything is read.
    const state = new Map<string, KnownState>();
    for (const k of keys) state.set(keyId(k), this.memory.get(keyId(k)) ?? null);
    const plan = planBatch(batch, state, head);
    this.memory.advance(plan.head, plan.changed);

    // Sent even when the batch appends nothing: its conflicts and no-ops were judged on the
    // writer's memory, and the head check is what proves that memory was current.
    // Settled into a value at once: a failure must not count as unhandled while we wait for
    // the batches ahead of this one.
    const sent = this.sendPipelined(head, plan).then(
      () => true,
      () => false,
    );
    const done = (async () => {
      await previous;
      if (await sent) {
        this.stats.pipelined++;
        return plan.outcomes;
      }
      this.stats.replanned++;
      // Our belief was stale (another writer, or a batch ahead of this one failed) or the
      // write failed outright: forget it and do this batch under the lock, where a real
      // error surfaces with its own cause.
      this.memory.forget();
      return this.commitLocked(batch);
    })();
    this.tail = done.catch(() => {});
    return { done };
  }

  private async sendPipelined(expected: LogHead, plan: BatchPlan): Promise<void> {
    this.pipe ??= this.sql.reserve().catch((e: unknown) => {
      this.pipe = undefined;
      throw e;
    });
    const conn = await this.pipe;
    try {
      await appendBatch(conn, expected, plan);
    } catch (e) {
      // A statement error rolls back its own implicit transaction only: the connection is clean
      // for the batches queued behind. Anything else (a lost connection) replaces it.
      if (!isStatementError(e) && this.pipe && (await this.pipe) === conn) {
        this.pipe = undefined;
        conn.release();
      }
      throw e;
    }
  }

  private async commitLocked(batch: Mutation[], roomMade = false): Promise<Outcome<MutationResult>[]> {
    const conn = (this.locked ??= await this.sql.reserve());
    try {
      const keys = uniqueKeys(batch);
      const [, heads, rows] = await Promise.all([
        conn`BEGIN`,
        conn<{ seq: number; hash: string; at: Date }[]>`
          SELECT seq, encode(hash, 'hex') AS hash, at FROM wake.log_head WHERE id = 1 FOR UPDATE`,
        // A separate statement after the lock: in READ COMMITTED it takes a fresh snapshot,
        // which includes every append that committed before we got the head.
        objectRows(conn, keys),
      ]);
      const objects = statesOf(keys, rows);
      const head: LogHead = { seq: heads[0].seq, hash: heads[0].hash, atMs: heads[0].at.getTime() };
      const plan = planBatch(batch, objects, head);
      if (plan.events.length > 0) await this.partitions.ensure(plan.head.seq);
      const [, commit] = await Promise.all([
        plan.events.length > 0 ? appendBatch(conn, head, plan) : undefined,
        conn`COMMIT`,
      ]);
      assertCommitted(commit.command);
      this.memory.learn(objects);
      this.memory.advance(plan.head, plan.changed);
      this.stats.underLock++;
      return plan.outcomes;
    } catch (e) {
      // The connection may be mid-transaction or broken: never reuse it.
      this.locked = undefined;
      await conn`ROLLBACK`.catch(() => {});
      conn.release();
      if (roomMade || !this.partitions.isMissingPartition(e)) throw e;
      // The partitions this process counted on are not there (dropped or detached by an operator).
      const [{ seq }] = await this.sql<{ seq: number }[]>`SELECT seq FROM wake.log_head WHERE id = 1`;
      await this.partitions.ensure(seq + batch.length, true);
      return this.commitLocked(batch, true);
    }
  }
}

/**
 * The current rows of `keys`, objects as JSON text. Returned unawaited on purpose: postgres.js
 * sends a query when it is first awaited, and the locked path needs it sent after BEGIN and
 * the head lock, in that order.
 *
 * One primary-key probe per key, whatever Postgres estimates: it takes any set-returning
 * function for 100 rows, and a plain join of 100 keys costs less as a hash join over a scan of
 * the whole projection (the API bench's 5,000 pod creates read 562 times through a scan of up
 * to 6,000 rows, 1–6 ms each, where one probe takes 0.01 ms). The LIMIT keeps the lateral
 * subquery from being flattened into such a join; the primary key allows one row anyway. Not
 * a prepared statement: a plan kept from when the projection was small would scan it in
 * every loop.
 */
function objectRows(sql: Sql | ReservedSql, keys: ObjectKey[]) {
  return sql.unsafe<ObjectRow[]>(
    `SELECT r.api_group, r.resource, r.namespace, r.name, r.uid, r.resource_version, r.object::text AS json
       FROM jsonb_to_recordset($1::text::jsonb) AS k(g text, r text, ns text, n text)
       CROSS JOIN LATERAL (
         SELECT * FROM wake.resources r
          WHERE r.api_group = k.g AND r.resource = k.r AND r.namespace = k.ns AND r.name = k.n
          LIMIT 1) r`,
    [JSON.stringify(keys.map(keyRow))],
    { prepare: false },
  );
}

/**
 * The state of each of `keys` given its rows: null where there is none. jsonb's text is not
 * canonical (it orders keys by length), so each is parsed and written again, once per object
 * the writer reads.
 */
function statesOf(keys: ObjectKey[], rows: ObjectRow[]): Map<string, KnownState> {
  const states = new Map<string, KnownState>(keys.map((k) => [keyId(k), null]));
  for (const r of rows) {
    const id = keyId({ group: r.api_group, resource: r.resource, namespace: r.namespace, name: r.name });
    const text = objectText(JSON.parse(r.json) as StoredObject);
    states.set(id, { uid: r.uid, resourceVersion: r.resource_version, text });
  }
  return states;
}

/**
 * Appends a planned batch in one statement (`wake.append_batch`): conditional on the head the
 * plan started from, on every planned resourceVersion, and on every row count. A batch that
 * appends nothing only checks the head, which proves the memory it was judged on was current.
 */
export function appendBatch(conn: Sql | ReservedSql, expected: LogHead, plan: BatchPlan) {
  if (plan.events.length === 0)
    return conn`SELECT wake.lock_head(${expected.seq}, decode(${expected.hash}, 'hex'))`;
  const { seq, hash, atMs } = plan.head;
  const { events, inserts, updates, deletes } = plan.rows;
  return conn`
    SELECT wake.append_batch(
      ${expected.seq}, decode(${expected.hash}, 'hex'), ${events},
      ${inserts}::bigint[], ${updates.seqs}::bigint[], ${updates.expected}::bigint[],
      ${deletes.seqs}::bigint[], ${deletes.expected}::bigint[],
      ${seq}, decode(${hash}, 'hex'), ${new Date(atMs).toISOString()}::timestamptz,
      ${[...plan.planned, plan.events.length]}::int[])`;
}

/** A COMMIT of an aborted transaction reports ROLLBACK: the batch must not count as committed. */
function assertCommitted(command: string): void {
  if (command !== 'COMMIT') throw new Error(`append transaction ended with ${command}, not COMMIT`);
}

/** An error Postgres reported for a statement (the session survives it), not a lost connection. */
function isStatementError(e: unknown): boolean {
  return (
    typeof (e as { code?: unknown })?.code === 'string' && /^[0-9A-Z]{5}$/.test((e as { code: string }).code)
  );
}

function keyRow(k: ObjectKey) {
  return { g: k.group, r: k.resource, ns: k.namespace, n: k.name };
}

/**
 * The keys the batch may plan without reading: every mutation of them in the batch is a
 * create whose caller believes the object absent. Nothing else in the batch then depends on
 * the belief, and the creates' inserts check it: a row already there fails the batch.
 */
function absentByBelief(batch: Mutation[]): Set<string> {
  const believed = new Set<string>();
  const doubted = new Set<string>();
  for (const m of batch) {
    const id = keyId(m.key);
    if (m.op === 'create' && m.absent === true) believed.add(id);
    else doubted.add(id);
    if (m.ctx.fence) doubted.add(keyId(m.ctx.fence.lease));
  }
  for (const id of doubted) believed.delete(id);
  return believed;
}

/** Every object the batch reads: those it writes and the leases that fence its writes. */
function uniqueKeys(batch: Mutation[]): ObjectKey[] {
  const seen = new Map<string, ObjectKey>();
  for (const m of batch) {
    seen.set(keyId(m.key), m.key);
    if (m.ctx.fence) seen.set(keyId(m.ctx.fence.lease), m.ctx.fence.lease);
  }
  return [...seen.values()];
}
