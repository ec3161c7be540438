import { randomUUID } from 'node:crypto';

import { StatusError } from '@app/api';

import { jsonEqual } from '../chain/index.js';
import { type EventType, type ObjectKey, type StoredMeta, type StoredObject } from '../model/index.js';
import { type CurrentObject, type Mutation } from './mutation.js';

export type Plan =
  | { kind: 'error'; error: StatusError }
  | { kind: 'noop'; current: CurrentObject }
  /** `next` is undefined for a delete: the object leaves the projection. */
  | { kind: 'event'; type: EventType; uid: string; object: StoredObject; next?: CurrentObject };

/** Kubernetes writes timestamps as RFC 3339 in whole seconds. */
export function rfc3339Seconds(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

function target(key: ObjectKey) {
  return { resource: key.resource, group: key.group, name: key.name };
}

/** Everything but metadata and status: what Kubernetes counts as "spec" for generation. */
function sameSpec(a: StoredObject, b: StoredObject): boolean {
  return jsonEqual(a, b, (key, depth) => depth === 0 && SPEC_EXCLUDED.has(key));
}
const SPEC_EXCLUDED = new Set(['metadata', 'status', 'apiVersion', 'kind']);

/** Equal but for the fields the store recomputes: tells a real change from a no-op. */
function sameContent(a: StoredObject, b: StoredObject): boolean {
  return (
    jsonEqual(a, b, (key, depth) => depth === 0 && key === 'metadata') &&
    jsonEqual(
      a.metadata,
      b.metadata,
      (key, depth) => depth === 0 && (key === 'resourceVersion' || key === 'generation'),
    )
  );
}

// Copies here are Object.assign, not `{ ...o, k: v }`: on Node 20's V8 each property added after
// a spread builds a new hidden class (about 1 µs each); the planner runs under the log-head lock.

/**
 * `metadata` with name and namespace taken from the object's key (a cluster-scoped object has
 * no namespace, whatever was sent) and the store-owned fields in `owned`.
 */
function identified(metadata: StoredMeta, key: ObjectKey, owned: Partial<StoredMeta>): StoredMeta {
  const out: StoredMeta = Object.assign({}, metadata, { name: key.name, namespace: key.namespace }, owned);
  if (!key.namespace) delete out.namespace;
  return out;
}

function checkPreconditions(m: Mutation, current: CurrentObject): StatusError | undefined {
  if (m.op === 'create') return undefined;
  const pre = m.preconditions;
  if (pre?.uid !== undefined && pre.uid !== current.uid) {
    return StatusError.conflict(
      target(m.key),
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.uid}`,
    );
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(current.resourceVersion)) {
    return StatusError.conflict(target(m.key));
  }
  return undefined;
}

/**
 * Decides what one mutation does to the current state of its object. Pure: the batch writer
 * calls it under the log-head lock with the state as of that moment, and with the outcome of
 * earlier mutations of the same batch already applied.
 *
 * @param seq the sequence number the event would get, which becomes its resourceVersion
 * @param at the event time (ISO-8601, milliseconds)
 */
export function planMutation(m: Mutation, current: CurrentObject | undefined, seq: number, at: string): Plan {
  if (m.op === 'create') {
    if (current) return { kind: 'error', error: StatusError.alreadyExists(target(m.key)) };
    const uid = m.uid ?? randomUUID();
    const object: StoredObject = {
      ...m.object,
      metadata: identified(m.object.metadata, m.key, {
        uid,
        resourceVersion: String(seq),
        generation: 1,
        creationTimestamp: rfc3339Seconds(at),
      }),
    };
    return { kind: 'event', type: 'ADDED', uid, object, next: { uid, resourceVersion: seq, object } };
  }

  if (!current) return { kind: 'error', error: StatusError.notFound(target(m.key)) };
  const failed = checkPreconditions(m, current);
  if (failed) return { kind: 'error', error: failed };

  if (m.op === 'delete') {
    const object: StoredObject = Object.assign({}, current.object, {
      metadata: Object.assign({}, current.object.metadata, { resourceVersion: String(seq) }),
    });
    return { kind: 'event', type: 'DELETED', uid: current.uid, object };
  }

  let sent: StoredObject;
  try {
    // The current object is the planner's own parsed copy: a transform may not alter it. A
    // second parse of its text is twice as fast as structuredClone (the pods/binding path).
    sent =
      typeof m.object === 'function'
        ? m.object(
            current.json !== undefined
              ? (JSON.parse(current.json) as StoredObject)
              : structuredClone(current.object),
          )
        : m.object;
  } catch (e) {
    if (e instanceof StatusError) return { kind: 'error', error: e };
    throw e;
  }
  // Identity and creation time are the store's, whatever the caller sent.
  const prev = current.object.metadata;
  const metadata = identified(sent.metadata, m.key, {
    uid: prev.uid,
    creationTimestamp: prev.creationTimestamp,
  });
  const candidate: StoredObject = Object.assign({}, sent, { metadata });
  if (sameContent(candidate, current.object)) return { kind: 'noop', current };

  const generation = (prev.generation ?? 1) + (sameSpec(candidate, current.object) ? 0 : 1);
  const object: StoredObject = Object.assign({}, candidate, {
    metadata: Object.assign({}, metadata, { resourceVersion: String(seq), generation }),
  });
  return {
    kind: 'event',
    type: 'MODIFIED',
    uid: current.uid,
    object,
    next: { uid: current.uid, resourceVersion: seq, object },
  };
}
