import { StatusError } from '@app/api';

import { canonicalJson, digestOfCanonical, eventHashOfCanonical, type HashedFields } from '../chain/index.js';
import { formatKey, keyId, type LeaderFence, type StoredEvent } from '../model/index.js';
import { type Outcome } from './group-committer.js';
import { parsed, planMutation } from './mutation-planner.js';
import { type CurrentObject, type Mutation, type MutationResult } from './mutation.js';
import { type ObjectText } from './object-text.js';

/** The log head: the last event's seq, hash and time. */
export interface LogHead {
  seq: number;
  hash: string;
  /** Event time of the last event, in epoch milliseconds. */
  atMs: number;
}

/**
 * An object's stored state as the writer remembers it: canonical JSON text rather than a
 * parsed object (see CurrentObject).
 */
export type KnownObject = CurrentObject;

/**
 * Projection rows to update or delete: `seqs[i]` is the batch's last event of the object, whose
 * row must be at resourceVersion `expected[i]`.
 */
export interface ProjectionRefs {
  seqs: number[];
  expected: number[];
}

/** `null`: known not to exist. `undefined`: not known. */
export type KnownState = KnownObject | null;

export interface BatchPlan {
  outcomes: Outcome<MutationResult>[];
  events: StoredEvent[];
  /**
   * The batch for the one write statement: the events as a JSON array for jsonb_to_recordset,
   * and the projection changes by reference to the event that carries each object's final
   * state, so every object crosses the wire, and is parsed by Postgres, once.
   */
  rows: { events: string; inserts: number[]; updates: ProjectionRefs; deletes: ProjectionRefs };
  /** How many projection rows the insert, update and delete must each touch. */
  planned: [number, number, number];
  /** The head after the batch. */
  head: LogHead;
  /** The state after the batch of every object it changed. */
  changed: Map<string, KnownState>;
}

/**
 * Plans a batch in order against `state` (the stored state of every object the batch touches,
 * as of `head`): each mutation sees the outcome of the earlier ones, gets the next seq, and is
 * chained onto the previous event's hash. Pure but for the clock and uids.
 */
export function planBatch(batch: Mutation[], state: Map<string, KnownState>, head: LogHead): BatchPlan {
  // Each object as of this point of the batch: what the batch did to it, else its stored state.
  const current = new Map<string, CurrentObject | undefined>();
  const lookup = (id: string): CurrentObject | undefined =>
    current.has(id) ? current.get(id) : (state.get(id) ?? undefined);

  // Never let event time run backwards along the log, whatever the clocks do: "as of
  // 14:02" maps to a seq by a monotonic search.
  const atMs = Math.max(Date.now(), head.atMs);
  const at = new Date(atMs).toISOString();
  let seq = head.seq;
  let hash = head.hash;
  const events: StoredEvent[] = [];
  // Each event is serialised once: the canonical JSON of its payload and of its hashed fields
  // are hashed for the chain and are also its row in the statement (canonical JSON is JSON).
  const rows: string[] = [];
  /** What each event leaves its object as; undefined for a delete. */
  const after: (CurrentObject | undefined)[] = [];
  const outcomes: Outcome<MutationResult>[] = batch.map((m) => {
    const id = keyId(m.key);
    if (m.ctx.fence) {
      const broken = fenceError(m.ctx.fence, lookup(keyId(m.ctx.fence.lease)));
      if (broken) return { ok: false, error: broken };
    }
    const before = lookup(id);
    const plan = planMutation(m, before, seq + 1, at);
    if (plan.kind === 'error') return { ok: false, error: plan.error };
    if (plan.kind === 'noop') {
      return {
        ok: true,
        value: { object: parsed(plan.current), resourceVersion: plan.current.resourceVersion },
      };
    }
    const text = plan.json;
    if (ESCAPED_NUL.test(text)) {
      // jsonb cannot hold U+0000; refuse this request alone instead of failing the batch.
      return {
        ok: false,
        error: StatusError.badRequest(
          `${formatKey(m.key)}: strings may not contain the NUL character (\\u0000)`,
        ),
      };
    }
    seq += 1;
    const header: HashedFields = {
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
    const fields = canonicalJson(header);
    const event: StoredEvent = Object.assign(header, {
      object: plan.object,
      prevHash: hash,
      hash: eventHashOfCanonical(hash, fields),
    });
    rows.push(
      `${fields.slice(0, -1)},"prevHash":"${event.prevHash}","hash":"${event.hash}","object":${text}}`,
    );
    hash = event.hash;
    events.push(event);
    after.push(plan.next);
    current.set(id, plan.next);
    return { ok: true, value: { object: plan.object, resourceVersion: seq, event } };
  });

  const projection = projectionRows(events, after, state);
  return {
    outcomes,
    events,
    rows: { events: `[${rows.join(',')}]`, ...projection.rows },
    planned: projection.planned,
    head: { seq, hash, atMs: events.length > 0 ? atMs : head.atMs },
    changed: projection.changed,
  };
}

/** Why a write under `fence` may not happen, given the fence lease's state as of this point of the batch. */
function fenceError(fence: LeaderFence, lease: CurrentObject | undefined): StatusError | undefined {
  const actual = lease ? leaseTransitions(lease) : 0;
  if (lease && actual === fence.transitions) return undefined;
  const where = `${fence.lease.namespace}/${fence.lease.name}`;
  return new StatusError(
    'Conflict',
    lease
      ? `the leader fence does not hold: lease ${where} is at leaseTransitions ${actual}, the write was made under ${fence.transitions}`
      : `the leader fence does not hold: lease ${where} does not exist`,
    { kind: 'leases', group: 'coordination.k8s.io', name: fence.lease.name },
  );
}

/**
 * A lease's spec.leaseTransitions, parsed once per version of the lease: every write of a
 * controller is fenced by the same lease, and its text is immutable.
 */
function leaseTransitions(lease: CurrentObject): number {
  let n = transitionsOf.get(lease.text);
  if (n === undefined) {
    n = (parsed(lease).spec as { leaseTransitions?: number } | undefined)?.leaseTransitions ?? 0;
    transitionsOf.set(lease.text, n);
  }
  return n;
}
const transitionsOf = new WeakMap<ObjectText, number>();

/**
 * A U+0000 in canonical JSON text: `\u0000` after an even number of backslashes (an odd number
 * means the backslash before `u0000` is itself an escaped, literal backslash).
 */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * The net change of each object from its state before the batch to its state after it: when
 * an object ends the batch present, its last event carries exactly its final state (and its
 * key and uid), so a row is named by that event's seq.
 */
function projectionRows(
  events: StoredEvent[],
  /** What each event leaves its object as (undefined for a delete). */
  after: (CurrentObject | undefined)[],
  initial: Map<string, KnownState>,
): Pick<BatchPlan, 'planned' | 'changed'> & { rows: Omit<BatchPlan['rows'], 'events'> } {
  const inserts: number[] = [];
  const updates: ProjectionRefs = { seqs: [], expected: [] };
  const deletes: ProjectionRefs = { seqs: [], expected: [] };
  const changed = new Map<string, KnownState>();
  const lastEvent = new Map(events.map((e, i) => [keyId(e), i]));
  for (const [id, i] of lastEvent) {
    const e = events[i];
    const before = initial.get(id) ?? null;
    if (e.type === 'DELETED') {
      changed.set(id, null);
      if (before) refer(deletes, e.seq, before.resourceVersion);
      continue;
    }
    const state = after[i];
    if (!state) throw new Error(`event ${e.seq} (${e.type}) left no state of its object`);
    changed.set(id, state);
    if (before) refer(updates, e.seq, before.resourceVersion);
    else inserts.push(e.seq);
  }
  return {
    rows: { inserts, updates, deletes },
    planned: [inserts.length, updates.seqs.length, deletes.seqs.length],
    changed,
  };
}

function refer(refs: ProjectionRefs, seq: number, expected: number): void {
  refs.seqs.push(seq);
  refs.expected.push(expected);
}
