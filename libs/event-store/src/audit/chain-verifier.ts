import { type Sql } from 'postgres';

import { eventHash, GENESIS_HASH, objectDigest } from '../chain/index.js';
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
    const fail = (seq: number, reason: string, checked: number, head: number, cps: number): VerifyReport => ({
      ok: false,
      checked,
      head,
      firstBadSeq: seq,
      reason,
      checkpointsChecked: cps,
      ms: performance.now() - started,
    });

    for (const c of checkpoints) {
      if (!options.signer) throw new Error('verifying checkpoints needs the signer public key');
      if (!options.signer.isValid(c))
        return fail(c.seq, `checkpoint at seq ${c.seq} has an invalid signature`, 0, 0, 0);
    }

    const [h] = await this.sql<{ seq: number; hash: string }[]>`
      SELECT seq, encode(hash, 'hex') AS hash FROM wake.log_head WHERE id = 1`;
    const head = Number(h.seq);
    let prev = GENESIS_HASH;
    let expectSeq = 1;
    let cpIndex = 0;
    let lastGoodCheckpoint = 0;
    while (expectSeq <= head) {
      const rows = await this.sql.unsafe<EventRow[]>(
        `SELECT ${EVENT_COLUMNS} FROM wake.events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        [expectSeq, head, pageSize],
      );
      if (rows.length === 0)
        return fail(
          expectSeq,
          `event ${expectSeq} is missing (head is ${head})`,
          expectSeq - 1,
          head,
          cpIndex,
        );
      for (const row of rows) {
        const e = toStoredEvent(row);
        const checked = expectSeq - 1;
        if (e.seq !== expectSeq)
          return fail(expectSeq, `event ${expectSeq} is missing (next is ${e.seq})`, checked, head, cpIndex);
        if (e.prevHash !== prev)
          return fail(e.seq, 'prev_hash does not link to the previous event', checked, head, cpIndex);
        if (e.object !== null && objectDigest(e.object) !== e.objectDigest) {
          return fail(e.seq, 'payload does not match its digest', checked, head, cpIndex);
        }
        if (eventHash(prev, e) !== e.hash)
          return fail(e.seq, 'hash does not match the event', checked, head, cpIndex);
        while (cpIndex < checkpoints.length && checkpoints[cpIndex].seq === e.seq) {
          if (checkpoints[cpIndex].hash !== e.hash) {
            return fail(
              lastGoodCheckpoint + 1,
              `history after seq ${lastGoodCheckpoint} was rewritten: the checkpoint signed at seq ${e.seq} ` +
                `says ${checkpoints[cpIndex].hash.slice(0, 16)}…, the log now says ${e.hash.slice(0, 16)}…`,
              checked,
              head,
              cpIndex,
            );
          }
          lastGoodCheckpoint = e.seq;
          cpIndex++;
        }
        prev = e.hash;
        expectSeq++;
      }
      options.onProgress?.(expectSeq - 1);
    }
    if (prev !== (head === 0 ? GENESIS_HASH : h.hash))
      return fail(head, 'the head row does not match the last event', head, head, cpIndex);
    const beyond = checkpoints.slice(cpIndex).find((c) => c.seq > head);
    if (beyond)
      return fail(
        head + 1,
        `the log ends at ${head} but a checkpoint was signed at seq ${beyond.seq}: events were removed`,
        head,
        head,
        cpIndex,
      );
    return { ok: true, checked: head, head, checkpointsChecked: cpIndex, ms: performance.now() - started };
  }
}
