import { EventEmitter } from 'node:events';

import { describe, expect, it, jest } from '@jest/globals';

import { type StreamedBody } from '../http/serving.js';
import { ChunkPool } from './chunk-pool.js';
import { FLUSH_BYTES, WatchLineWriter } from './line-writer.js';

/** A body that keeps every chunk it is given, with its callback to call when the test says it is written. */
class HeldBody extends EventEmitter implements StreamedBody {
  readonly chunks: { chunk: Buffer; done?: () => void }[] = [];
  takesMore = true;
  write(chunk: string | Buffer, done?: () => void): boolean {
    this.chunks.push({ chunk: chunk as Buffer, done });
    return this.takesMore;
  }
  end(): void {}
  /** Marks every chunk so far written: their callbacks run. */
  sent(): void {
    for (const c of this.chunks.splice(0)) c.done?.();
  }
}

const line = (text: string) => Buffer.from(`${text}\n`);
const nextTurn = () => new Promise((r) => setImmediate(r));
const pool = () =>
  new ChunkPool({ minSlabBytes: 8 * 1024, maxSlabBytes: 256 * 1024, maxFreeBytesPerSize: 1 << 20 });
/** Lines of about 1 KiB, `n` of them, each naming its index. */
const kiloLines = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => line(`${tag}${i}:${'x'.repeat(1000)}`));

describe('WatchLineWriter', () => {
  it('writes the lines of one turn as one chunk, in order, and a lone line as the shared Buffer itself', async () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    w.write(line('a'));
    w.write(line('b'));
    w.write(line('c'));
    expect(body.chunks).toHaveLength(0);
    await nextTurn();
    expect(body.chunks.map((c) => c.chunk.toString())).toEqual(['a\nb\nc\n']);
    const lone = line('d');
    w.write(lone);
    await nextTurn();
    expect(body.chunks[1].chunk).toBe(lone);
  });

  it('writes at once when FLUSH_BYTES have gathered', () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    const lines: Buffer[] = [];
    for (let bytes = 0; bytes < FLUSH_BYTES;) {
      const l = kiloLines(1, `l${lines.length}-`)[0];
      lines.push(l);
      bytes += l.length;
      w.write(l);
    }
    // Written by the write that crossed FLUSH_BYTES, not at the end of the turn.
    expect(body.chunks).toHaveLength(1);
    expect(body.chunks[0].chunk.equals(Buffer.concat(lines))).toBe(true);
  });

  it('does not reuse a chunk before the body is done with it, and reuses it after', async () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    const first = kiloLines(20, 'first');
    for (const l of first) w.write(l);
    await nextTurn();
    const held = body.chunks[0].chunk;
    // The body has not written the first chunk yet: a second burst must not land in its memory.
    for (const l of kiloLines(20, 'second')) w.write(l);
    await nextTurn();
    expect(held.toString()).toBe(Buffer.concat(first).toString());
    expect(body.chunks[1].chunk.buffer).not.toBe(held.buffer);
    const second = body.chunks[1].chunk;
    body.sent();
    for (const l of kiloLines(20, 'third')) w.write(l);
    await nextTurn();
    expect([held.buffer, second.buffer]).toContain(body.chunks[0].chunk.buffer);
  });

  it('is blocked while the body takes no more, until it drains', async () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    expect(w.blocked).toBeUndefined();
    body.takesMore = false;
    w.write(line('a'));
    await nextTurn();
    const blocked = w.blocked;
    expect(blocked).toBeInstanceOf(Promise);
    body.emit('drain');
    await blocked;
    expect(w.blocked).toBeUndefined();
  });

  it('writes nothing once the body is gone, and keeps nothing gathered for it', async () => {
    const body = new HeldBody();
    let gone = true;
    const w = new WatchLineWriter(body, () => gone, pool());
    w.write(line('a'));
    w.write(line('b'));
    w.flush();
    await nextTurn();
    expect(body.chunks).toHaveLength(0);
    // Had the lines been kept, a body that took lines again would get them now.
    gone = false;
    w.write(line('c'));
    w.flush();
    expect(body.chunks.map((c) => c.chunk.toString())).toEqual(['c\n']);
  });

  it('a flush by hand calls off the end-of-turn flush, and the next line schedules its own', async () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    const realSetImmediate = setImmediate;
    let ran = 0;
    const spy = jest.spyOn(global, 'setImmediate').mockImplementation(((fn: () => void) =>
      realSetImmediate(() => {
        ran++;
        fn();
      })) as unknown as typeof setImmediate);
    try {
      w.write(line('a'));
      w.write(line('b'));
      w.flush();
      expect(body.chunks.map((c) => c.chunk.toString())).toEqual(['a\nb\n']);
      await new Promise((r) => realSetImmediate(r));
      expect(ran).toBe(0);
      w.write(line('c'));
      await new Promise((r) => realSetImmediate(r));
      expect(ran).toBe(1);
      expect(body.chunks.map((c) => c.chunk.toString())).toEqual(['a\nb\n', 'c\n']);
    } finally {
      spy.mockRestore();
    }
  });
  it('gathers lines for a flush by hand without scheduling one, and still writes at once past FLUSH_BYTES', async () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false, pool());
    const spy = jest.spyOn(global, 'setImmediate');
    try {
      w.gather(line('a'));
      w.gather(line('b'));
      await nextTurn();
      expect(body.chunks).toHaveLength(0);
      w.flush();
      w.gather(line('c'));
      w.flush();
      const big = kiloLines(Math.ceil(FLUSH_BYTES / 1000), 'big');
      for (const l of big) w.gather(l);
      // Only the test's own nextTurn asked for a turn: gathering scheduled nothing.
      expect(spy).toHaveBeenCalledTimes(1);
      expect(body.chunks.map((c) => c.chunk.toString())).toEqual([
        'a\nb\n',
        'c\n',
        Buffer.concat(big).toString(),
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("by default writes a burst of a few KiB from pooled memory, reused once written, not from Node's 8 KiB pool", () => {
    const body = new HeldBody();
    const w = new WatchLineWriter(body, () => false);
    const memory = new Set<ArrayBufferLike>();
    // Node's pool would hand these out of a fresh 8 KiB ArrayBuffer every third burst.
    for (let burst = 0; burst < 6; burst++) {
      for (const l of kiloLines(2, `b${burst}-`)) w.gather(l);
      w.flush();
      memory.add(body.chunks[0].chunk.buffer);
      body.sent();
    }
    expect(memory.size).toBe(1);
  });
});
