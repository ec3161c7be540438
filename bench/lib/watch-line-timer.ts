// Times the lines of watch responses read as raw bytes (see watch-worker.ts): no HTTP parser,
// no decoding of the lines, only a native search for each line's stamp.

// Starts with '-', which a line holds a few times: Buffer#indexOf then skips along it with
// memchr. A needle starting with '"' (every few bytes of JSON) makes it give up on that and
// build a Boyer-Moore table per call, which cost ~1 µs a line, a third of a watcher process.
const STAMP = Buffer.from('-sent":"');
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DOT = 0x2e;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * The delivery latency of every line of many watches: now − the write's start stamped in the
 * object (epoch ms, in the `bench-sent` annotation). Lines of writes started before
 * `measureFrom` are counted but not timed (a warm-up).
 */
export class WatchLineTimer {
  received = 0;
  measured = 0;
  measureFrom = 0;

  /** When each timed line's write started (epoch ms), beside its latency in `samples`. */
  readonly sentAt: Float64Array;

  constructor(readonly samples: Float64Array) {
    this.sentAt = new Float64Array(samples.length);
  }

  /** A reader of one response's bytes, fed as they arrive. */
  reader(): WatchBodyReader {
    return new WatchBodyReader(this);
  }

  /** Counts and times every stamp in `chunk[0, end)`. */
  record(chunk: Buffer, end: number, now: number): void {
    for (let at = chunk.indexOf(STAMP); at !== -1 && at < end; at = chunk.indexOf(STAMP, at)) {
      at += STAMP.length;
      const sent = stampAt(chunk, at);
      this.received++;
      if (sent >= this.measureFrom && this.measured < this.samples.length) {
        this.sentAt[this.measured] = sent;
        this.samples[this.measured++] = now - sent;
      }
    }
  }
}

/**
 * The stamp (`<epoch ms>.<fraction>`) that starts at `at`, read from the bytes. Finding its
 * closing quote, copying it into a string and parsing that were two thirds of a watcher
 * process's time in the 500-watcher fan-out, on the two cores the measured server has.
 */
export function stampAt(bytes: Buffer, at: number): number {
  let i = at;
  let whole = 0;
  for (let d = bytes[i] - DIGIT_0; d >= 0 && d <= 9; d = bytes[++i] - DIGIT_0) whole = whole * 10 + d;
  if (bytes[i] !== DOT) return whole;
  let fraction = 0;
  let scale = 1;
  for (let d = bytes[++i] - DIGIT_0; d >= 0 && d <= 9; d = bytes[++i] - DIGIT_0) {
    fraction = fraction * 10 + d;
    scale *= 10;
  }
  return whole + fraction / scale;
}

/**
 * One watch response, head then chunked body. The chunked framing needs no parsing: the server
 * writes whole lines per chunk, so a stamp before the last newline that has arrived belongs to
 * a line that has ended (the framing's own newlines fall between lines), and what follows that
 * newline waits for the next bytes.
 */
export class WatchBodyReader {
  private head: Buffer | undefined = Buffer.alloc(0);
  private partial?: Buffer;

  constructor(private readonly timer: WatchLineTimer) {}

  /**
   * Feeds bytes received at `now`. Returns the status line once the head is complete (the
   * caller refuses anything but 200), undefined before and after.
   */
  feed(data: Buffer, now: number): string | undefined {
    let chunk = data;
    let status: string | undefined;
    if (this.head) {
      const head = Buffer.concat([this.head, data]);
      const end = head.indexOf(HEAD_END);
      if (end === -1) {
        this.head = head;
        return undefined;
      }
      status = head.toString('latin1', 0, head.indexOf('\r\n'));
      chunk = head.subarray(end + HEAD_END.length);
      this.head = undefined;
    }
    if (this.partial) chunk = Buffer.concat([this.partial, chunk]);
    const end = chunk.lastIndexOf(NEWLINE);
    this.partial = end === chunk.length - 1 ? undefined : chunk.subarray(end + 1);
    if (end !== -1) this.timer.record(chunk, end, now);
    return status;
  }
}
