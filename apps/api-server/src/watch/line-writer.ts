import { drained } from '@app/bus';

import { type StreamedBody } from '../http/serving.js';
import { ChunkPool } from './chunk-pool.js';

/** Bytes of watch lines gathered before they are written without waiting for the burst to end. */
export const FLUSH_BYTES = 64 * 1024;

/**
 * Memory for the writes of every watch this process serves; see ChunkPool. Slabs up to twice
 * FLUSH_BYTES hold any flush but one that ends in a very large object. From 1 KiB: a watch
 * handed a few events at a time writes a few KiB, and Node's own pool, which served writes under
 * 4 KiB before, takes a new 8 KiB ArrayBuffer every two or three of them (external memory).
 */
const CHUNKS = new ChunkPool({
  minSlabBytes: 1024,
  maxSlabBytes: 2 * FLUSH_BYTES,
  maxFreeBytesPerSize: 64 * 1024 * 1024,
  trimEveryMs: 30_000,
});

/**
 * A watch's lines on their way to its response body. Lines that arrive together leave together:
 * one write per burst (or per FLUSH_BYTES) instead of one per event. The lines are Buffers
 * shared by every watch that sends them (encoded once); several are copied into a pooled chunk,
 * which the body's write callback hands back.
 *
 * `blocked` is set while the body does not take more. The watch then stops taking events, so a
 * slow client backs up into the hub, which cuts it off (WatchTooSlow), not into memory here.
 */
export class WatchLineWriter {
  /**
   * The lines gathered: the first `pendingCount` slots of an array that keeps its length, so that
   * a burst fills slots it already has. An array emptied (`length = 0`) or replaced per burst
   * grows its storage afresh each time: a few hundred bytes per burst per watch.
   */
  private readonly pending: (Buffer | undefined)[] = [];
  private pendingCount = 0;
  private pendingBytes = 0;
  /** The end-of-turn flush, while one is due. */
  private scheduled?: NodeJS.Immediate;
  private draining?: Promise<void>;

  constructor(
    private readonly body: StreamedBody,
    /** Whether the body is gone (the client left): nothing more is written. */
    private readonly gone: () => boolean,
    private readonly pool: ChunkPool = CHUNKS,
  ) {}

  /** Settles when the body takes more again; undefined while it does. */
  get blocked(): Promise<void> | undefined {
    return this.draining;
  }

  /** Gathers `line` and writes it by the end of the turn at the latest. */
  write(line: Buffer): void {
    this.gather(line);
    if (this.pendingCount > 0) this.scheduled ??= setImmediate(this.flushNow);
  }

  /**
   * Gathers `line` for the caller's own `flush()` (written sooner only past FLUSH_BYTES): a
   * watch's burst then schedules nothing, where a flush due at the end of the turn cost a timer
   * object per burst per watch, only to be called off.
   */
  gather(line: Buffer): void {
    this.pending[this.pendingCount++] = line;
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private readonly flushNow = (): void => this.flush();

  /**
   * Writes what is gathered now. A flush due at the end of the turn is called off: a caller
   * that knows its burst is whole (a watch after each batch) leaves no callback behind it.
   */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const count = this.pendingCount;
    if (count === 0) return;
    // A body that is gone takes nothing more: what was gathered for it is dropped, not kept
    // growing with every line gathered until the watch notices.
    if (this.gone()) return this.dropPending(count);
    // The lines are written or copied before `write` returns: their slots are free after it.
    const taken =
      count === 1 ? this.body.write(this.pending[0] as Buffer) : this.writePooled(count, this.pendingBytes);
    this.dropPending(count);
    // One wait for drain at a time, however many writes it covers.
    if (!taken && !this.draining) {
      this.draining = drained(this.body).then(() => {
        this.draining = undefined;
      });
    }
  }

  private dropPending(count: number): void {
    this.pending.fill(undefined, 0, count);
    this.pendingCount = 0;
    this.pendingBytes = 0;
  }

  private writePooled(count: number, bytes: number): boolean {
    const chunk = this.pool.take(bytes);
    let at = 0;
    for (let i = 0; i < count; i++) at += (this.pending[i] as Buffer).copy(chunk.bytes, at);
    // Called once the body is done with the chunk (or never, if the stream dies first).
    return this.body.write(chunk.bytes, () => chunk.release());
  }
}
