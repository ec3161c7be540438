import { describe, expect, it } from '@jest/globals';

import { ChunkPool } from './chunk-pool.js';

const KiB = 1024;
const pool = (maxFreeBytesPerSize = 1024 * KiB) =>
  new ChunkPool({ minSlabBytes: 8 * KiB, maxSlabBytes: 128 * KiB, maxFreeBytesPerSize });

describe('ChunkPool', () => {
  it('hands out exactly the length asked for', () => {
    for (const n of [4 * KiB, 5000, 19_000, 64 * KiB, 128 * KiB])
      expect(pool().take(n).bytes).toHaveLength(n);
  });

  it('reuses a released slab for the next chunk of its size, and not before it is released', () => {
    const p = pool();
    const a = p.take(19_000);
    const b = p.take(20_000);
    expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
    a.release();
    const c = p.take(30_000);
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    expect(p.take(17_000).bytes.buffer).not.toBe(c.bytes.buffer);
  });

  it('takes a second release of one chunk for nothing: the slab goes to one later chunk only', () => {
    const p = pool();
    const a = p.take(10_000);
    a.release();
    a.release();
    const b = p.take(10_000);
    const c = p.take(10_000);
    expect(b.bytes.buffer).toBe(a.bytes.buffer);
    expect(c.bytes.buffer).not.toBe(b.bytes.buffer);
  });

  it('keeps slabs by size: a chunk of another size gets memory of its own', () => {
    const p = pool();
    const big = p.take(100 * KiB);
    big.release();
    expect(p.take(10 * KiB).bytes.buffer).not.toBe(big.bytes.buffer);
    expect(p.take(120 * KiB).bytes.buffer).toBe(big.bytes.buffer);
  });

  it('leaves chunks below half the smallest slab and above the largest to the garbage collector', () => {
    const p = pool();
    const small = p.take(3 * KiB);
    const huge = p.take(200 * KiB);
    small.release();
    huge.release();
    expect(p.heldBytes).toBe(0);
  });

  it('keeps at most maxFreeBytesPerSize of free slabs of each size, and the sizes apart', () => {
    const p = pool(64 * KiB);
    const big = Array.from({ length: 4 }, () => p.take(128 * KiB));
    const mid = Array.from({ length: 4 }, () => p.take(32 * KiB));
    for (const c of [...big, ...mid]) c.release();
    // None of the 128 KiB slabs fits under 64 KiB; two of the 32 KiB ones do.
    expect(p.heldBytes).toBe(64 * KiB);
  });

  it('gives back, at a trim, the free slabs of a size beyond what was taken from it since the last trim', () => {
    const p = pool();
    const burst = Array.from({ length: 8 }, () => p.take(32 * KiB));
    for (const c of burst) c.release();
    p.trim();
    // The burst took 8 since the pool began: all 8 stay for a load that goes on.
    expect(p.heldBytes).toBe(8 * 32 * KiB);
    // Then only 2 at a time are taken: the next trim keeps 2 (each taken chunk went back).
    for (let i = 0; i < 2; i++) p.take(32 * KiB).release();
    p.trim();
    expect(p.heldBytes).toBe(2 * 32 * KiB);
    // A quiet spell: nothing taken, nothing kept.
    p.trim();
    expect(p.heldBytes).toBe(0);
  });
});
