import { type ObjectText } from './object-text.js';
import { type AuditContext, type ObjectKey, type StoredEvent, type StoredObject } from '../model/index.js';

/** Conditions a write must meet, checked against the stored object inside the transaction. */
export interface Preconditions {
  /** The write succeeds only if the object's current resourceVersion equals this. */
  resourceVersion?: string;
  /** The write succeeds only if the object's current uid equals this. */
  uid?: string;
}

interface MutationBase {
  key: ObjectKey;
  /** Who and why; its `fence`, when set, is checked before the write is planned. */
  ctx: AuditContext;
}

/**
 * The new state of an updated object, or how to compute it from the current one under the
 * log-head lock: a read-modify-write without a separate read, and without a conflict when
 * another write lands between the two (the API server's pods/binding). A transform throws a
 * StatusError to refuse the write; it must be pure, it may run again on a retried batch.
 */
export type UpdateTo = StoredObject | ((current: StoredObject) => StoredObject);

export type Mutation =
  | (MutationBase & {
      op: 'create';
      object: StoredObject;
      /** The uid, when the API server assigned it beforehand (the Job strategy labels with it). */
      uid?: string;
      /**
       * The caller's belief that the object does not exist (a generated name, a name its cache
       * lacks): the writer plans the create without reading the object first. A wrong belief
       * costs more than the read (the batch's insert fails and the batch is planned again
       * under the lock), so only a well-founded one should be passed.
       */
      absent?: boolean;
    })
  | (MutationBase & { op: 'update'; object: UpdateTo; preconditions?: Preconditions })
  | (MutationBase & { op: 'delete'; preconditions?: Preconditions });

/** What a mutation did. `event` is absent when the write changed nothing (no event appended). */
export interface MutationResult {
  object: StoredObject;
  /** The object's resourceVersion after the write, as a number. */
  resourceVersion: number;
  event?: StoredEvent;
}

/** The stored state of one object as the appending transaction sees it. */
export interface CurrentObject {
  uid: string;
  resourceVersion: number;
  /**
   * The object as canonical JSON text, not parsed: nothing a caller does with the objects it
   * gets back can alter what the next write is planned against, and an update is judged on
   * the text (see ObjectText); a transform gets its own copy by a parse.
   */
  text: ObjectText;
}
