import { type LogEntry, type RecordedOp, type Violation } from './history.js';

/** The log holds exactly seq 1..head, each once, and its reader saw them in increasing order. */
export function checkGapless(seqs: number[], head: number): Violation[] {
  const out: Violation[] = [];
  for (let i = 0; i < seqs.length; i++) {
    const want = i + 1;
    if (seqs[i] !== want) {
      out.push({ checker: 'gapless', message: `position ${i}: expected seq ${want}, found ${seqs[i]}` });
      break;
    }
  }
  if (seqs.length !== head)
    out.push({ checker: 'gapless', message: `log holds ${seqs.length} events, head says ${head}` });
  return out;
}

/**
 * A reader tailing `seq > cursor` during the load must see the whole log, in order, once.
 * Commit-ordered sequences guarantee it; a bigserial log loses events to out-of-order commits.
 */
export function checkTail(observed: number[], log: number[]): Violation[] {
  const out: Violation[] = [];
  for (let i = 1; i < observed.length; i++) {
    if (observed[i] <= observed[i - 1]) {
      out.push({ checker: 'tail', message: `seq ${observed[i]} delivered after ${observed[i - 1]}` });
      return out;
    }
  }
  const seen = new Set(observed);
  const missed = log.filter((s) => !seen.has(s));
  if (missed.length) {
    out.push({
      checker: 'tail',
      message: `reader never saw ${missed.length} committed events, first ${missed.slice(0, 5).join(', ')}`,
    });
  }
  return out;
}

/** Every acknowledged write that appended is in the log at its resourceVersion, as the right kind of event. */
export function checkAckedDurability(history: RecordedOp[], log: LogEntry[]): Violation[] {
  const bySeq = new Map(log.map((e) => [e.seq, e]));
  const want = { create: 'ADDED', update: 'MODIFIED', delete: 'DELETED' } as const;
  const out: Violation[] = [];
  for (const op of history) {
    if (!op.outcome.ok || !op.outcome.appended) continue;
    const e = bySeq.get(op.outcome.rv);
    if (!e || e.key !== op.key || e.type !== want[op.kind]) {
      out.push({
        checker: 'durability',
        message: `acknowledged ${op.kind} of ${op.key} at rv ${op.outcome.rv} is not in the log`,
      });
    }
  }
  return out;
}

/** No event in the log that no acknowledged or indeterminate request can explain (no phantom writes). */
export function checkNoPhantoms(history: RecordedOp[], log: LogEntry[], indeterminate = 0): Violation[] {
  const acked = new Set(
    history.filter((o) => o.outcome.ok && o.outcome.appended).map((o) => (o.outcome as { rv: number }).rv),
  );
  const phantoms = log.filter((e) => !acked.has(e.seq));
  return phantoms.length > indeterminate
    ? [
        {
          checker: 'phantoms',
          message: `${phantoms.length} events no acknowledged request explains, first seq ${phantoms[0].seq}`,
        },
      ]
    : [];
}

/**
 * Single-object compare-and-set is linearizable: per object, every successful conditional
 * update names as precondition the rv of the object's previous event, so successes form one
 * chain and no two successes share a precondition (no lost update).
 */
export function checkCasChains(history: RecordedOp[], log: LogEntry[]): Violation[] {
  const out: Violation[] = [];
  const previous = new Map<number, number>();
  const lastByKey = new Map<string, number>();
  for (const e of [...log].sort((a, b) => a.seq - b.seq)) {
    const prev = lastByKey.get(e.key);
    if (prev !== undefined) previous.set(e.seq, prev);
    lastByKey.set(e.key, e.seq);
  }
  const usedPreconditions = new Map<string, number>();
  for (const op of history) {
    if (!op.outcome.ok || op.precondition === undefined || !op.outcome.appended) continue;
    const id = `${op.key}@${op.precondition}`;
    const other = usedPreconditions.get(id);
    if (other !== undefined) {
      out.push({
        checker: 'cas',
        message: `${op.key}: two writes succeeded from rv ${op.precondition} (rv ${other} and ${op.outcome.rv})`,
      });
    }
    usedPreconditions.set(id, op.outcome.rv);
    const prev = previous.get(op.outcome.rv);
    if (prev !== op.precondition) {
      out.push({
        checker: 'cas',
        message: `${op.key}: write at rv ${op.outcome.rv} claimed precondition ${op.precondition}, previous event was ${prev}`,
      });
    }
  }
  return out;
}
