/**
 * A recorded client history, Jepsen style: every operation as the client saw it. Checkers run
 * on the history after the load, not on live state, so a failure can be re-checked.
 */
export type OpKind = 'create' | 'update' | 'delete';

export interface RecordedOp {
  kind: OpKind;
  /** Object identity, e.g. `configmaps/ns/name`. */
  key: string;
  /** The resourceVersion precondition the client sent, if any. */
  precondition?: number;
  /** ok: the server acknowledged with this resourceVersion (and event seq, unless a no-op). */
  outcome: { ok: true; rv: number; appended: boolean } | { ok: false; reason: string };
}

/** One row of the log, as far as the checkers care. */
export interface LogEntry {
  seq: number;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
}

export interface Violation {
  checker: string;
  message: string;
}
