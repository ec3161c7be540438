import { afterEach, describe, expect, it, jest } from '@jest/globals';

import { isStatusError, type StatusError } from '@app/api';

import { eventHash, GENESIS_HASH, objectDigest } from '../chain/index.js';
import {
  type AuditContext,
  keyId,
  type ObjectKey,
  type StoredEvent,
  type StoredObject,
  SYSTEM_ACTOR,
} from '../model/index.js';
import {
  type BatchPlan,
  type KnownObject,
  type KnownState,
  type LogHead,
  planBatch,
} from './batch-planner.js';
import { objectText } from './object-text.js';
import { type Outcome } from './group-committer.js';
import { type MutationResult } from './mutation.js';
import { create, del, DEPLOY, NODE, POD, update } from './mutations.fixture.js';

const DB: ObjectKey = { group: '', resource: 'pods', namespace: 'default', name: 'db' };

/** A head part-way along the log, at a time well in the past. */
const HEAD: LogHead = { seq: 41, hash: 'ab'.repeat(32), atMs: Date.UTC(2024, 0, 1) };
/** A head whose time is far ahead of any clock this test runs under. */
const FUTURE_MS = Date.UTC(2999, 0, 1, 12, 30, 45, 678);

/** A fresh object as a client sends it. */
function body(spec: Record<string, unknown> = { image: 'nginx:1' }): StoredObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { labels: { app: 'web' } }, spec };
}

/** An object as a create at `rv` left it, and its stored state as the writer knows it. */
function stored(key: ObjectKey, rv: number, uid = `uid-${key.name}-${rv}`) {
  const object: StoredObject = {
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: {
      name: key.name,
      ...(key.namespace ? { namespace: key.namespace } : {}),
      uid,
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: '2023-12-31T00:00:00Z',
      labels: { app: 'web' },
    },
    spec: { image: 'nginx:1' },
  };
  const known: KnownObject = { uid, resourceVersion: rv, text: objectText(object) };
  return { object, known };
}

/** The object a client sends back to change `object` (a deep copy, then edited). */
function edited(object: StoredObject, change: (o: StoredObject) => void): StoredObject {
  const copy = structuredClone(object);
  change(copy);
  return copy;
}

function stateOf(...entries: [ObjectKey, KnownState][]): Map<string, KnownState> {
  return new Map(entries.map(([k, s]) => [keyId(k), s]));
}

function value(o: Outcome<MutationResult> | undefined): MutationResult {
  if (!o?.ok) throw new Error(`expected a success, got ${JSON.stringify(o)}`);
  return o.value;
}

function eventOf(o: Outcome<MutationResult> | undefined): StoredEvent {
  const event = value(o).event;
  if (!event) throw new Error('expected the outcome to carry an event');
  return event;
}

function failure(o: Outcome<MutationResult> | undefined): StatusError {
  if (!o || o.ok) throw new Error(`expected a failure, got ${JSON.stringify(o)}`);
  if (!isStatusError(o.error)) throw new Error(`expected a StatusError, got ${String(o.error)}`);
  return o.error;
}

type Row = Record<string, unknown>;

function parseRows(text: string): Row[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error(`not a JSON array: ${text}`);
  return parsed.map((r: unknown) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`not a row: ${text}`);
    return r as Row;
  });
}

/**
 * The projection rows of a plan, as the write statement resolves them: each reference joined
 * with the batch's event of that seq (key, uid, payload), after checking `planned` counts them.
 */
function projection(plan: BatchPlan) {
  const events = new Map(parseRows(plan.rows.events).map((e) => [e.seq, e]));
  const event = (seq: number) => {
    const e = events.get(seq);
    if (!e) throw new Error(`no event ${seq} in the batch`);
    return e;
  };
  const key = (e: Row) => ({ g: e.group, r: e.resource, ns: e.namespace, n: e.name });
  const { inserts, updates, deletes } = plan.rows;
  const rows = {
    inserts: inserts.map((seq) => {
      const e = event(seq);
      return { ...key(e), uid: e.uid, rv: seq, object: e.object };
    }),
    updates: updates.seqs.map((seq, i) => {
      const e = event(seq);
      return { ...key(e), uid: e.uid, rv: seq, expected: updates.expected[i], object: e.object };
    }),
    deletes: deletes.seqs.map((seq, i) => ({ ...key(event(seq)), expected: deletes.expected[i] })),
  };
  expect(plan.planned).toEqual([rows.inserts.length, rows.updates.length, rows.deletes.length]);
  return rows;
}

const keyCols = (key: ObjectKey) => ({ g: key.group, r: key.resource, ns: key.namespace, n: key.name });

afterEach(() => {
  jest.restoreAllMocks();
});

describe('planBatch', () => {
  describe('sequence numbers', () => {
    it('numbers the events gaplessly from head.seq + 1, skipping errors and no-ops', () => {
      const existing = stored(DB, 7);
      const gone = stored(NODE, 9);
      const plan = planBatch(
        [
          create(POD, body()), // event 42
          create(POD, body()), // AlreadyExists
          update(DB, structuredClone(existing.object)), // no-op
          del(DEPLOY), // NotFound
          update(
            DB,
            edited(existing.object, (o) => (o.spec = { image: 'nginx:2' })),
          ), // event 43
          update(NODE, gone.object, { resourceVersion: '8' }), // Conflict
          del(DB), // event 44
        ],
        stateOf([DB, existing.known], [NODE, gone.known]),
        HEAD,
      );

      expect(plan.events.map((e) => [e.seq, e.type, e.name])).toEqual([
        [42, 'ADDED', 'web'],
        [43, 'MODIFIED', 'db'],
        [44, 'DELETED', 'db'],
      ]);
      expect(eventOf(plan.outcomes[0]).seq).toBe(42);
      expect(value(plan.outcomes[0]).resourceVersion).toBe(42);
      expect(failure(plan.outcomes[1]).code).toBe(409);
      expect(value(plan.outcomes[2])).toEqual({ object: existing.object, resourceVersion: 7 });
      expect(value(plan.outcomes[2]).event).toBeUndefined();
      expect(failure(plan.outcomes[3]).code).toBe(404);
      expect(eventOf(plan.outcomes[4]).seq).toBe(43);
      expect(value(plan.outcomes[4]).object.metadata.resourceVersion).toBe('43');
      expect(failure(plan.outcomes[5]).reason).toBe('Conflict');
      expect(eventOf(plan.outcomes[6]).seq).toBe(44);
      expect(plan.outcomes).toHaveLength(7);
      expect(plan.head.seq).toBe(44);
    });

    it('gives each outcome the very event it appended', () => {
      const plan = planBatch([create(POD, body()), create(DB, body())], new Map(), HEAD);
      expect(plan.outcomes.map((o) => eventOf(o))).toEqual(plan.events);
      plan.outcomes.forEach((o, i) => expect(eventOf(o)).toBe(plan.events[i]));
      plan.events.forEach((e, i) => expect(e.object).toBe(value(plan.outcomes[i]).object));
    });

    it('starts at 1 on an empty log', () => {
      const plan = planBatch([create(POD, body())], new Map(), { seq: 0, hash: GENESIS_HASH, atMs: 0 });
      expect(plan.events.map((e) => e.seq)).toEqual([1]);
      expect(plan.events[0].prevHash).toBe(GENESIS_HASH);
      expect(plan.head.seq).toBe(1);
    });
  });

  describe('the hash chain', () => {
    it('chains each event onto the previous one, the first onto head.hash', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [
          create(POD, body()),
          create(POD, body()), // refused: no event, no link
          update(
            DB,
            edited(existing.object, (o) => (o.spec = { image: 'x' })),
          ),
          create(NODE, body()),
          del(POD),
        ],
        stateOf([DB, existing.known]),
        HEAD,
      );

      expect(plan.events).toHaveLength(4);
      let prev = HEAD.hash;
      for (const e of plan.events) {
        expect(e.prevHash).toBe(prev);
        expect(e.hash).toBe(eventHash(prev, e));
        expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(e.objectDigest).toBe(objectDigest(e.object));
        prev = e.hash;
      }
      expect(plan.head.hash).toBe(prev);
      expect(new Set(plan.events.map((e) => e.hash)).size).toBe(4);
    });

    it('depends on head.hash: the same batch on another head hashes differently', () => {
      const other: LogHead = { ...HEAD, hash: 'cd'.repeat(32) };
      const a = planBatch([create(POD, body())], new Map(), HEAD);
      const b = planBatch([create(POD, body())], new Map(), other);
      expect(b.events[0].prevHash).toBe(other.hash);
      expect(b.events[0].hash).toBe(eventHash(other.hash, b.events[0]));
      expect(b.events[0].hash).not.toBe(eventHash(HEAD.hash, b.events[0]));
      expect(a.events[0].hash).toBe(eventHash(HEAD.hash, a.events[0]));
    });

    it('records the audit context in every event header', () => {
      const full: AuditContext = {
        actor: { user: 'alice', groups: ['dev'] },
        verb: 'create',
        requestId: 'req-1',
        userAgent: 'kubectl/1.30',
        sourceIp: '10.0.0.1',
        cause: 17,
      };
      const plan = planBatch([create(POD, body(), full), create(DB, body())], new Map(), HEAD);
      expect(plan.events[0]).toMatchObject({
        group: '',
        resource: 'pods',
        namespace: 'default',
        name: 'web',
        actor: full.actor,
        verb: 'create',
        requestId: 'req-1',
        userAgent: 'kubectl/1.30',
        sourceIp: '10.0.0.1',
        cause: 17,
      });
      expect(plan.events[1]).toMatchObject({
        actor: SYSTEM_ACTOR,
        verb: 'update',
        requestId: null,
        userAgent: null,
        sourceIp: null,
        cause: null,
      });
      expect(plan.events[0].uid).toBe(value(plan.outcomes[0]).object.metadata.uid);
    });
  });

  describe('event time', () => {
    it('never goes below head.atMs, even when the clock is behind it', () => {
      const head: LogHead = { ...HEAD, atMs: FUTURE_MS };
      const plan = planBatch([create(POD, body()), create(DB, body())], new Map(), head);
      const at = new Date(FUTURE_MS).toISOString();
      expect(plan.events.map((e) => e.at)).toEqual([at, at]);
      expect(plan.head.atMs).toBe(FUTURE_MS);
      expect(value(plan.outcomes[0]).object.metadata.creationTimestamp).toBe('2999-01-01T12:30:45Z');
    });

    it('takes the clock when it is ahead of head.atMs, one time for the whole batch', () => {
      const now = HEAD.atMs + 123_456;
      jest.spyOn(Date, 'now').mockReturnValue(now);
      const plan = planBatch([create(POD, body()), create(DB, body()), del(POD)], new Map(), HEAD);
      const at = new Date(now).toISOString();
      expect(plan.events.map((e) => e.at)).toEqual([at, at, at]);
      expect(plan.head.atMs).toBe(now);
    });

    it('leaves the head as it was when nothing is appended', () => {
      jest.spyOn(Date, 'now').mockReturnValue(HEAD.atMs + 60_000);
      const existing = stored(DB, 7);
      const head: LogHead = { ...HEAD };
      const plan = planBatch(
        [
          update(DB, structuredClone(existing.object)), // no-op
          create(DB, body()), // AlreadyExists
          del(POD), // NotFound
        ],
        stateOf([DB, existing.known]),
        head,
      );
      expect(plan.head).toEqual(HEAD);
      expect(plan.events).toEqual([]);
      expect(plan.rows).toEqual({
        events: '[]',
        inserts: [],
        updates: { seqs: [], expected: [] },
        deletes: { seqs: [], expected: [] },
      });
      expect(plan.planned).toEqual([0, 0, 0]);
      expect(plan.changed.size).toBe(0);
    });

    it('plans an empty batch as nothing', () => {
      const plan = planBatch([], new Map(), HEAD);
      expect(plan.outcomes).toEqual([]);
      expect(plan.head).toEqual(HEAD);
      expect(plan.planned).toEqual([0, 0, 0]);
    });
  });

  describe('changed', () => {
    it('holds the final state of every object the batch changed, and only those', () => {
      const updated = stored(DB, 7);
      const deleted = stored(NODE, 8);
      const untouched = stored(DEPLOY, 9);
      const plan = planBatch(
        [
          create(POD, body()),
          update(
            DB,
            edited(updated.object, (o) => (o.spec = { image: 'v2' })),
          ),
          del(NODE),
          update(DEPLOY, structuredClone(untouched.object)), // no-op
        ],
        stateOf([DB, updated.known], [NODE, deleted.known], [DEPLOY, untouched.known]),
        HEAD,
      );

      expect([...plan.changed.keys()].sort()).toEqual([keyId(POD), keyId(DB), keyId(NODE)].sort());
      expect(plan.changed.get(keyId(NODE))).toBeNull();
      for (const [key, i, rv] of [
        [POD, 0, 42],
        [DB, 1, 43],
      ] as const) {
        const result = value(plan.outcomes[i]);
        expect(plan.changed.get(keyId(key))).toEqual({
          uid: result.object.metadata.uid,
          resourceVersion: rv,
          text: objectText(result.object),
        });
      }
      expect(plan.changed.get(keyId(DB))?.uid).toBe(updated.known.uid);
    });

    it('is null for an object created and deleted in the same batch', () => {
      const plan = planBatch([create(POD, body()), del(POD)], new Map(), HEAD);
      expect(plan.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
      expect(plan.changed).toEqual(new Map([[keyId(POD), null]]));
    });

    it('holds the last version of an object changed more than once', () => {
      const plan = planBatch(
        [create(POD, body({ n: 1 })), update(POD, body({ n: 2 })), update(POD, body({ n: 3 }))],
        new Map(),
        HEAD,
      );
      const last = value(plan.outcomes[2]).object;
      expect(last.spec).toEqual({ n: 3 });
      expect(plan.changed.get(keyId(POD))).toEqual({
        uid: eventOf(plan.outcomes[0]).uid,
        resourceVersion: 44,
        text: objectText(last),
      });
    });
  });

  describe('projection rows', () => {
    it('carries the events as a JSON array, objects included', () => {
      const existing = stored(DB, 7);
      const plan = planBatch([create(POD, body()), del(DB)], stateOf([DB, existing.known]), HEAD);
      expect(JSON.parse(plan.rows.events)).toEqual(plan.events);
      expect(parseRows(plan.rows.events)).toHaveLength(2);
    });

    it('inserts a created object', () => {
      const plan = planBatch([create(POD, body())], new Map(), HEAD);
      const rows = projection(plan);
      const result = value(plan.outcomes[0]);
      expect(rows).toEqual({
        inserts: [{ ...keyCols(POD), uid: result.object.metadata.uid, rv: 42, object: result.object }],
        updates: [],
        deletes: [],
      });
      expect(plan.planned).toEqual([1, 0, 0]);
    });

    it('updates a changed object, expecting its old resourceVersion', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [
          update(
            DB,
            edited(existing.object, (o) => (o.spec = { image: 'v2' })),
          ),
        ],
        stateOf([DB, existing.known]),
        HEAD,
      );
      expect(projection(plan)).toEqual({
        inserts: [],
        updates: [
          {
            ...keyCols(DB),
            uid: existing.known.uid,
            rv: 42,
            expected: 7,
            object: value(plan.outcomes[0]).object,
          },
        ],
        deletes: [],
      });
    });

    it('deletes a deleted object, expecting its old resourceVersion', () => {
      const existing = stored(NODE, 7);
      const plan = planBatch([del(NODE)], stateOf([NODE, existing.known]), HEAD);
      expect(projection(plan)).toEqual({
        inserts: [],
        updates: [],
        deletes: [{ ...keyCols(NODE), expected: 7 }],
      });
      expect(plan.planned).toEqual([0, 0, 1]);
    });

    it('writes no row for an object created and deleted in the same batch', () => {
      const plan = planBatch([create(POD, body()), del(POD)], new Map(), HEAD);
      expect(plan.events).toHaveLength(2);
      expect(projection(plan)).toEqual({ inserts: [], updates: [], deletes: [] });
      expect(plan.planned).toEqual([0, 0, 0]);
    });

    it('updates, not deletes and inserts, an existing object deleted and re-created', () => {
      const existing = stored(POD, 7);
      const plan = planBatch(
        [del(POD), create(POD, body({ image: 'new' }))],
        stateOf([POD, existing.known]),
        HEAD,
      );
      const recreated = value(plan.outcomes[1]).object;
      expect(recreated.metadata.uid).not.toBe(existing.known.uid);
      expect(projection(plan)).toEqual({
        inserts: [],
        updates: [{ ...keyCols(POD), uid: recreated.metadata.uid, rv: 43, expected: 7, object: recreated }],
        deletes: [],
      });
      expect(plan.planned).toEqual([0, 1, 0]);
      expect(plan.changed.get(keyId(POD))).toEqual({
        uid: recreated.metadata.uid,
        resourceVersion: 43,
        text: objectText(recreated),
      });
    });

    it('writes one update carrying the last version of an object updated twice', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [update(DB, body({ image: 'v2' })), update(DB, body({ image: 'v3' }))],
        stateOf([DB, existing.known]),
        HEAD,
      );
      const last = value(plan.outcomes[1]).object;
      expect(last.spec).toEqual({ image: 'v3' });
      expect(projection(plan)).toEqual({
        inserts: [],
        updates: [{ ...keyCols(DB), uid: existing.known.uid, rv: 43, expected: 7, object: last }],
        deletes: [],
      });
    });

    it('writes one insert carrying the last version of an object created then updated', () => {
      const plan = planBatch([create(POD, body({ n: 1 })), update(POD, body({ n: 2 }))], new Map(), HEAD);
      const last = value(plan.outcomes[1]).object;
      expect(projection(plan)).toEqual({
        inserts: [{ ...keyCols(POD), uid: last.metadata.uid, rv: 43, object: last }],
        updates: [],
        deletes: [],
      });
    });

    it('writes one delete for an existing object updated then deleted', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [update(DB, body({ image: 'v2' })), del(DB)],
        stateOf([DB, existing.known]),
        HEAD,
      );
      expect(projection(plan)).toEqual({
        inserts: [],
        updates: [],
        deletes: [{ ...keyCols(DB), expected: 7 }],
      });
    });

    it('counts every kind of row in a mixed batch', () => {
      const a = stored(DB, 3);
      const b = stored(NODE, 4);
      const c = stored(DEPLOY, 5);
      const plan = planBatch(
        [
          create(POD, body()),
          update(DB, body({ image: 'v2' })),
          del(NODE),
          del(DEPLOY),
          create({ ...POD, name: 'other' }, body()),
          create(NODE, body()),
        ],
        stateOf([DB, a.known], [NODE, b.known], [DEPLOY, c.known]),
        HEAD,
      );
      const rows = projection(plan);
      expect(plan.planned).toEqual([2, 2, 1]);
      expect(rows.inserts.map((r) => r.n).sort()).toEqual(['other', 'web']);
      expect(rows.updates.map((r) => [r.n, r.expected])).toEqual([
        ['db', 3],
        ['node-1', 4],
      ]);
      expect(rows.deletes).toEqual([{ ...keyCols(DEPLOY), expected: 5 }]);
    });
  });

  describe('a later mutation of the batch sees the earlier ones', () => {
    it('updates an object created earlier in the batch', () => {
      const plan = planBatch(
        [create(POD, body({ replicas: 1 })), update(POD, body({ replicas: 2 }), { resourceVersion: '42' })],
        new Map(),
        HEAD,
      );
      const created = eventOf(plan.outcomes[0]);
      const modified = eventOf(plan.outcomes[1]);
      expect(modified.type).toBe('MODIFIED');
      expect(modified.uid).toBe(created.uid);
      expect(value(plan.outcomes[1]).object.metadata).toMatchObject({
        uid: created.uid,
        resourceVersion: '43',
        generation: 2,
        creationTimestamp: created.object?.metadata.creationTimestamp,
      });
    });

    it('refuses a second create of the same key as AlreadyExists', () => {
      const plan = planBatch([create(POD, body()), create(POD, body())], new Map(), HEAD);
      expect(eventOf(plan.outcomes[0]).seq).toBe(42);
      const error = failure(plan.outcomes[1]);
      expect(error.code).toBe(409);
      expect(error.reason).toBe('AlreadyExists');
      expect(error.message).toBe('pods "web" already exists');
      expect(plan.events).toHaveLength(1);
    });

    it('does not find an object deleted earlier in the batch', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [del(DB), update(DB, structuredClone(existing.object)), del(DB)],
        stateOf([DB, existing.known]),
        HEAD,
      );
      expect(failure(plan.outcomes[1]).code).toBe(404);
      expect(failure(plan.outcomes[2]).code).toBe(404);
      expect(plan.events).toHaveLength(1);
    });

    it('checks a precondition against the resourceVersion an earlier mutation set', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [
          update(DB, body({ image: 'v2' }), { resourceVersion: '7' }),
          update(DB, body({ image: 'v3' }), { resourceVersion: '7' }), // stale now
          update(DB, body({ image: 'v4' }), { resourceVersion: '42' }),
        ],
        stateOf([DB, existing.known]),
        HEAD,
      );
      expect(eventOf(plan.outcomes[0]).seq).toBe(42);
      expect(failure(plan.outcomes[1]).reason).toBe('Conflict');
      expect(eventOf(plan.outcomes[2]).seq).toBe(43);
    });

    it('is a no-op when a later update sends back what an earlier one wrote', () => {
      const plan = planBatch([create(POD, body()), update(POD, body())], new Map(), HEAD);
      expect(plan.events).toHaveLength(1);
      expect(value(plan.outcomes[1])).toEqual({
        object: value(plan.outcomes[0]).object,
        resourceVersion: 42,
      });
      expect(value(plan.outcomes[1]).event).toBeUndefined();
    });
  });

  describe('the NUL character', () => {
    it.each([
      { where: 'a label value', object: { metadata: { labels: { a: 'x\u0000y' } } } },
      { where: 'a string deep in the spec', object: { metadata: {}, spec: { args: ['ok', '\u0000'] } } },
      { where: 'a field name', object: { metadata: {}, data: { 'k\u0000': 'v' } } },
    ])('refuses a request with NUL in $where with a 400, for that request alone', ({ object }) => {
      const plan = planBatch(
        [create(DB, body()), create(POD, object), create(NODE, body())],
        new Map(),
        HEAD,
      );

      const error = failure(plan.outcomes[1]);
      expect(error.code).toBe(400);
      expect(error.reason).toBe('BadRequest');
      expect(error.message).toContain('pods/default/web');
      expect(plan.events.map((e) => [e.seq, e.name])).toEqual([
        [42, 'db'],
        [43, 'node-1'],
      ]);
      expect(plan.head.seq).toBe(43);
      expect(plan.changed.has(keyId(POD))).toBe(false);
      expect(projection(plan).inserts.map((r) => r.n)).toEqual(['db', 'node-1']);
    });

    it.each([
      { what: 'a backslash followed by u0000', value: 'C:\\u0000dir' },
      { what: 'two backslashes followed by u0000', value: '\\\\u0000' },
    ])('accepts $what, which is not a NUL character', ({ value: text }) => {
      const plan = planBatch([create(POD, { metadata: {}, data: { path: text } })], new Map(), HEAD);
      expect(eventOf(plan.outcomes[0]).seq).toBe(42);
      expect((value(plan.outcomes[0]).object.data as { path: string }).path).toBe(text);
    });

    it('refuses a NUL character that follows an escaped backslash', () => {
      const plan = planBatch([create(POD, { metadata: {}, data: { path: '\\\u0000' } })], new Map(), HEAD);
      expect(failure(plan.outcomes[0]).code).toBe(400);
    });

    it('leaves the object as it was for the rest of the batch when an update is refused', () => {
      const existing = stored(DB, 7);
      const plan = planBatch(
        [
          update(DB, body({ image: 'bad\u0000' })),
          update(DB, body({ image: 'v2' }), { resourceVersion: '7' }),
        ],
        stateOf([DB, existing.known]),
        HEAD,
      );
      expect(failure(plan.outcomes[0]).code).toBe(400);
      expect(eventOf(plan.outcomes[1]).seq).toBe(42);
      expect(projection(plan).updates).toEqual([
        expect.objectContaining({ n: 'db', rv: 42, expected: 7, object: value(plan.outcomes[1]).object }),
      ]);
    });
  });

  describe('isolation', () => {
    it('does not alter the state it was given', () => {
      const existing = stored(DB, 7);
      const gone = stored(NODE, 8);
      const state = stateOf([DB, existing.known], [NODE, gone.known]);
      const before = structuredClone(state);
      planBatch(
        [
          update(DB, body({ image: 'v2' })),
          del(NODE),
          create(POD, body()),
          update(DB, body({ image: 'v3' })),
        ],
        state,
        HEAD,
      );
      expect(state).toEqual(before);
    });

    it('keeps state and changed as JSON text that editing a returned object cannot reach', () => {
      const existing = stored(DB, 7);
      const unchanged = stored(NODE, 8);
      const state = stateOf([DB, existing.known], [NODE, unchanged.known]);
      const stateBefore = structuredClone(state);
      const plan = planBatch(
        [
          create(POD, body()),
          update(DB, body({ image: 'v2' })),
          update(NODE, structuredClone(unchanged.object)),
        ],
        state,
        HEAD,
      );
      for (const s of state.values()) expect(typeof s?.text.json).toBe('string');
      for (const s of plan.changed.values()) expect(typeof s?.text.json).toBe('string');
      const changedBefore = structuredClone(plan.changed);
      const rowsBefore = { ...plan.rows };

      for (const o of plan.outcomes) {
        const object = value(o).object;
        object.metadata.labels = { hacked: 'yes' };
        object.spec = { image: 'evil' };
        object.metadata.resourceVersion = '999';
      }

      expect(state).toEqual(stateBefore);
      expect(plan.changed).toEqual(changedBefore);
      expect(plan.rows).toEqual(rowsBefore);

      // The next batch, planned on what this one left (as the writer does), sees the real state:
      // sending back the original objects changes nothing.
      const next = planBatch(
        [
          update(POD, JSON.parse(changedBefore.get(keyId(POD))?.text.json ?? 'null') as StoredObject),
          update(DB, body({ image: 'v2' })),
          update(NODE, structuredClone(unchanged.object)),
        ],
        new Map([...state, ...plan.changed]),
        plan.head,
      );
      expect(next.events).toEqual([]);
      expect(value(next.outcomes[0]).resourceVersion).toBe(42);
      expect(value(next.outcomes[1]).object.spec).toEqual({ image: 'v2' });
      expect(value(next.outcomes[2]).object.spec).toEqual({ image: 'nginx:1' });
    });
  });

  describe('leader fence', () => {
    const LEASE: ObjectKey = {
      group: 'coordination.k8s.io',
      resource: 'leases',
      namespace: 'kube-system',
      name: 'ctrl',
    };
    const lease = (transitions: number) => {
      const object: StoredObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: 'ctrl',
          namespace: 'kube-system',
          uid: 'lease-uid',
          resourceVersion: '40',
          generation: 1,
        },
        spec: { holderIdentity: 'a', leaseTransitions: transitions },
      };
      return {
        object,
        known: { uid: 'lease-uid', resourceVersion: 40, text: objectText(object) } as KnownObject,
      };
    };
    const fenced = (transitions: number): AuditContext => ({
      actor: SYSTEM_ACTOR,
      verb: 'create',
      fence: { lease: LEASE, transitions },
    });
    const stateWith = (l: ReturnType<typeof lease> | null) =>
      new Map<string, KnownState>([
        [keyId(LEASE), l ? l.known : null],
        [keyId(POD), null],
      ]);

    it('lets a write through while the lease is at the fenced transitions', () => {
      const plan = planBatch([create(POD, body(), fenced(3))], stateWith(lease(3)), HEAD);
      expect(plan.outcomes[0].ok).toBe(true);
      expect(plan.events).toHaveLength(1);
    });

    it('refuses a deposed leader (the lease moved on) and a missing lease with 409, appending nothing', () => {
      for (const state of [stateWith(lease(4)), stateWith(null)]) {
        const plan = planBatch([create(POD, body(), fenced(3))], state, HEAD);
        const o = plan.outcomes[0];
        expect(o.ok).toBe(false);
        const e = (o as { error: StatusError }).error;
        expect(isStatusError(e) && e.code).toBe(409);
        expect(e.message).toMatch(/^the leader fence does not hold: lease kube-system\/ctrl /);
        expect(plan.events).toEqual([]);
      }
    });

    it('sees a takeover earlier in the same batch', () => {
      const takeover = edited(
        lease(3).object,
        (o) => (o.spec = { holderIdentity: 'b', leaseTransitions: 4 }),
      );
      const plan = planBatch(
        [update(LEASE, takeover), create(POD, body(), fenced(3))],
        stateWith(lease(3)),
        HEAD,
      );
      expect(plan.outcomes[0].ok).toBe(true);
      expect(plan.outcomes[1].ok).toBe(false);
      expect(plan.events).toHaveLength(1);
    });
  });
});
