/** A Buffer to write, and how to hand its memory back once the write no longer needs it. */
export interface PooledChunk {
  bytes: Buffer;
  /** Returns the memory for reuse; later calls do nothing. Call it only when the write is done with `bytes`. */
  release(): void;
}

export interface ChunkPoolOptions {
  /** Smallest pooled slab; smaller chunks come from Node's own 8 KiB pool (Buffer.allocUnsafe). */
  minSlabBytes: number;
  /** Largest pooled slab; larger chunks are allocated afresh and left to the garbage collector. */
  maxSlabBytes: number;
  /**
   * Most bytes kept in free slabs of each size; a slab released beyond it is left to the garbage
   * collector. Per size, so that slabs of a size no longer asked for cannot starve the others.
   */
  maxFreeBytesPerSize: number;
  /**
   * Every this many milliseconds, each size keeps no more free slabs than were taken from it
   * since the last time: a pool that served a burst gives its memory back once the burst is
   * over. Absent: only trim() trims.
   */
  trimEveryMs?: number;
}

/** The free slabs of one size, and how many chunks of that size were taken since the last trim. */
interface SizeClass {
  free: Buffer[];
  takenSinceTrim: number;
}

/**
 * Reusable memory for the watch streams' writes, in power-of-two slabs.
 *
 * Why not a Buffer.concat per write: every Buffer past Node's small-buffer pool is a new
 * ArrayBuffer, which V8 counts as external memory, and V8 answers fast-growing external memory
 * with full mark-compacts however small its own heap's growth. 500 watches at 1,000 events/s
 * concatenate about 130 MB/s; the API server then started a mark-compact every 300-450 ms
 * ("external memory pressure"), each 100-280 ms of marking once its heap held 10,000 pods, and
 * on two cores the fan-out fell seconds behind. A slab written and released is reused instead.
 */
export class ChunkPool {
  /** By log2 of the slab's size. */
  private readonly sizes = new Map<number, SizeClass>();

  /** Started with the first slab: a process that serves no watch has no timer for it. */
  private trimming?: NodeJS.Timeout;

  constructor(private readonly options: ChunkPoolOptions) {}

  /** A chunk of exactly `length` bytes, to be filled by the caller. */
  take(length: number): PooledChunk {
    const { minSlabBytes, maxSlabBytes } = this.options;
    if (length < minSlabBytes / 2 || length > maxSlabBytes)
      return { bytes: Buffer.allocUnsafe(length), release: () => {} };
    const log2 = Math.max(Math.ceil(Math.log2(length)), Math.log2(minSlabBytes));
    const size = this.sizeClass(log2);
    size.takenSinceTrim++;
    const slab = size.free.pop() ?? this.newSlab(2 ** log2);
    let released = false;
    return {
      bytes: slab.subarray(0, length),
      release: () => {
        if (released) return;
        released = true;
        if ((size.free.length + 1) * slab.length <= this.options.maxFreeBytesPerSize) size.free.push(slab);
      },
    };
  }

  /** Bytes now held in free slabs. */
  get heldBytes(): number {
    let bytes = 0;
    for (const [log2, size] of this.sizes) bytes += size.free.length * 2 ** log2;
    return bytes;
  }

  /** Lets go of the free slabs of each size beyond what was taken from it since the last trim. */
  trim(): void {
    for (const size of this.sizes.values()) {
      if (size.free.length > size.takenSinceTrim) size.free.length = size.takenSinceTrim;
      size.takenSinceTrim = 0;
    }
  }

  private newSlab(bytes: number): Buffer {
    if (this.options.trimEveryMs !== undefined)
      this.trimming ??= setInterval(() => this.trim(), this.options.trimEveryMs).unref();
    return Buffer.allocUnsafeSlow(bytes);
  }

  private sizeClass(log2: number): SizeClass {
    let size = this.sizes.get(log2);
    if (!size) this.sizes.set(log2, (size = { free: [], takenSinceTrim: 0 }));
    return size;
  }
}
