import { StatusError } from '@app/api';
import { type LogEntry, type RecordedOp } from '@app/checkers';
import { type EventStore, type ObjectKey, type StoredEvent } from '@app/event-store';

import { configMap, ctx } from './store-fixture.js';

/** A small seeded PRNG, so a failing load can be re-run with the same choices. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MixedLoadOptions {
  writers: number;
  opsPerWriter: number;
  /** Objects the writers fight over: fewer keys, more conflicts. */
  keys: number;
  seed: number;
  namespace?: string;
}

export const keyString = (k: ObjectKey) => `${k.resource}/${k.namespace}/${k.name}`;

/** The log as the history checkers read it. */
export const logEntries = (log: StoredEvent[]): LogEntry[] =>
  log.map((e) => ({ seq: e.seq, type: e.type, key: keyString(e) }));

/**
 * Concurrent writers doing read-modify-write against a shared set of objects: create when
 * absent, else update (3 in 4) or delete, always with the resourceVersion just read as the
 * precondition. Every operation and its outcome is recorded for the checkers.
 */
export async function runMixedLoad(store: EventStore, o: MixedLoadOptions): Promise<RecordedOp[]> {
  const history: RecordedOp[] = [];
  const ns = o.namespace ?? 'load';
  const writer = async (w: number) => {
    const rand = prng(o.seed * 1000 + w);
    for (let i = 0; i < o.opsPerWriter; i++) {
      const key: ObjectKey = {
        group: '',
        resource: 'configmaps',
        namespace: ns,
        name: `obj-${Math.floor(rand() * o.keys)}`,
      };
      const cur = await store.get(key);
      const op: RecordedOp = { kind: 'create', key: keyString(key), outcome: { ok: false, reason: 'unset' } };
      try {
        let res;
        if (!cur) {
          res = await store.create(
            key,
            configMap(key.name, { writer: String(w), i: String(i) }),
            ctx(`writer-${w}`),
          );
        } else if (rand() < 0.75) {
          op.kind = 'update';
          op.precondition = cur.resourceVersion;
          const next = {
            ...cur.object,
            data: { writer: String(w), i: String(i), pad: 'x'.repeat(Math.floor(rand() * 200)) },
          };
          res = await store.update(key, next, ctx(`writer-${w}`, { verb: 'update' }), {
            resourceVersion: String(cur.resourceVersion),
          });
        } else {
          op.kind = 'delete';
          op.precondition = cur.resourceVersion;
          res = await store.delete(key, ctx(`writer-${w}`, { verb: 'delete' }), {
            resourceVersion: String(cur.resourceVersion),
          });
        }
        op.outcome = { ok: true, rv: res.resourceVersion, appended: !!res.event };
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        op.outcome = { ok: false, reason: e.reason };
      }
      history.push(op);
    }
  };
  await Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
  return history;
}

/** Tails the log with `seq > cursor` while the load runs, recording what it saw. */
export function startTailer(store: EventStore): { stop(finalHead: number): Promise<number[]> } {
  const seen: number[] = [];
  let target = Infinity;
  let deadline = Infinity;
  let cursor = 0;
  const loop = (async () => {
    // Bounded: once stopped, it has 30 s to reach the final head, else the checker reports the gap.
    while (cursor < target && Date.now() < deadline) {
      const batch = await store.events.after(cursor, 500);
      for (const e of batch) seen.push(e.seq);
      if (batch.length) cursor = batch[batch.length - 1].seq;
      else await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop(finalHead: number) {
      target = finalHead;
      deadline = Date.now() + 30_000;
      await loop;
      return seen;
    },
  };
}
