import { type Sql } from 'postgres';

import { eventHash, GENESIS_HASH, objectDigest } from '../chain/index.js';
import { type StoredEvent } from '../model/index.js';
import { EVENT_COLUMNS, type EventRow, toStoredEvent } from '../read/event-reader.js';
import { type Checkpoint, type CheckpointSigner } from './checkpoint-signer.js';

export interface VerifyOptions {
  /** Signed checkpoints to hold the log against (from outside the database). */
  checkpoints?: Checkpoint[];
  signer?: CheckpointSigner;
  /** Rows fetched per round trip. */
  pageSize?: number;
  /** Called after each page with the last verified seq. */
  onProgress?: (seq: number) => void;
}

export interface VerifyReport {
  ok: boolean;
  /** Events whose chain link was recomputed. */
  checked: number;
  head: number;
  /** The first seq that fails, and why. */
  firstBadSeq?: number;
  reason?: string;
  checkpointsChecked: number;
  ms: number;
}

/**
 * Recomputes the hash chain from seq 1: every link, every payload digest (where the payload is
 * still there), the sequence's density and the head row. Signed checkpoints then pin the chain
 * at points in time, which catches a suffix rewritten and re-chained consistently.
 */
export class ChainVerifier {
  constructor(private readonly sql: Sql) {}

  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const started = performance.now();
    const pageSize = options.pageSize ?? 5000;
    const checkpoints = [...(options.checkpoints ?? [])].sort((a, b) => a.seq - b.seq);
    if (checkpoints.length && !options.signer)
      throw new Error('verifying checkpoints needs the signer public key');
    let head = 0;
    let checked = 0;
    let cpIndex = 0;
    const report = (bad?: { seq: number; reason: string }): VerifyReport => ({
      ok: !bad,
      checked,
      head,
      ...(bad ? { firstBadSeq: bad.seq, reason: bad.reason } : {}),
      checkpointsChecked: cpIndex,
      ms: performance.now() - started,
    });

    const forged = checkpoints.find((c) => !options.signer!.isValid(c));
    if (forged)
      return report({ seq: forged.seq, reason: `checkpoint at seq ${forged.seq} has an invalid signature` });

    const [h] = await this.sql<{ seq: number; hash: string }[]>`
      SELECT seq, encode(hash, 'hex') AS hash FROM wake.log_head WHERE id = 1`;
    head = h.seq;
    let prev = GENESIS_HASH;
    let lastGoodCheckpoint = 0;
    while (checked < head) {
      const rows = await this.sql.unsafe<EventRow[]>(
        `SELECT ${EVENT_COLUMNS} FROM wake.events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        [checked, head, pageSize],
      );
      if (rows.length === 0)
        return report({ seq: checked + 1, reason: `event ${checked + 1} is missing (head is ${head})` });
      for (const e of rows.map(toStoredEvent)) {
        const want = checked + 1;
        if (e.seq !== want)
          return report({ seq: want, reason: `event ${want} is missing (next is ${e.seq})` });
        const broken = linkError(e, prev);
        if (broken) return report({ seq: e.seq, reason: broken });
        for (; cpIndex < checkpoints.length && checkpoints[cpIndex].seq === e.seq; cpIndex++) {
          const signed = checkpoints[cpIndex].hash;
          if (signed !== e.hash) {
            return report({
              seq: lastGoodCheckpoint + 1,
              reason:
                `history after seq ${lastGoodCheckpoint} was rewritten: the checkpoint signed at seq ${e.seq} ` +
                `says ${signed.slice(0, 16)}…, the log now says ${e.hash.slice(0, 16)}…`,
            });
          }
          lastGoodCheckpoint = e.seq;
        }
        prev = e.hash;
        checked = e.seq;
      }
      options.onProgress?.(checked);
    }
    if (prev !== (head === 0 ? GENESIS_HASH : h.hash)) {
      return report({ seq: head, reason: 'the head row does not match the last event' });
    }
    const beyond = checkpoints.slice(cpIndex).find((c) => c.seq > head);
    if (beyond) {
      return report({
        seq: head + 1,
        reason: `the log ends at ${head} but a checkpoint was signed at seq ${beyond.seq}: events were removed`,
      });
    }
    return report();
  }
}

/** Why event `e` does not link to the chain ending in `prev`, if it does not. */
function linkError(e: StoredEvent, prev: string): string | undefined {
  if (e.prevHash !== prev) return 'prev_hash does not link to the previous event';
  if (e.object !== null && objectDigest(e.object) !== e.objectDigest)
    return 'payload does not match its digest';
  if (eventHash(prev, e) !== e.hash) return 'hash does not match the event';
  return undefined;
}
