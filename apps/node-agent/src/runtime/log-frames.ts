/**
 * Docker multiplexes a non-TTY container's stdout and stderr into one stream of frames: an
 * 8-byte header (stream id, three zero bytes, big-endian payload length) before each payload.
 */
export interface LogFrame {
  stream: 'stdout' | 'stderr';
  text: string;
}

const STREAMS: Record<number, LogFrame['stream']> = { 1: 'stdout', 2: 'stderr' };

/** A whole multiplexed stream, read to its end, as text frames (a FrameDecoder fed once). */
export function demuxLogs(buffer: Buffer): LogFrame[] {
  const decoder = new FrameDecoder();
  const frames = decoder.push(buffer);
  const left = decoder.pendingBytes;
  if (left > 0) {
    const at = buffer.length - left;
    throw new Error(
      left < 8
        ? `log stream ends inside a frame header at byte ${at}`
        : `malformed log stream: the frame at byte ${at} is cut short`,
    );
  }
  return frames.map((f) => ({ stream: f.stream, text: f.data.toString('utf8') }));
}

export interface LogLine {
  stream: LogFrame['stream'];
  /** RFC 3339 with nanoseconds, as the engine wrote it; present when timestamps were asked for. */
  timestamp?: string;
  line: string;
}

/**
 * Splits frames into lines. The engine frames each line it logged, but a frame may hold
 * several, and with timestamps each line starts with one and a space.
 */
export function logLines(frames: readonly LogFrame[], timestamps: boolean): LogLine[] {
  const lines: LogLine[] = [];
  for (const { stream, text } of frames) {
    for (const raw of text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined)) {
      if (!timestamps) {
        lines.push({ stream, line: raw });
        continue;
      }
      const space = raw.indexOf(' ');
      if (space < 0) lines.push({ stream, timestamp: raw, line: '' });
      else lines.push({ stream, timestamp: raw.slice(0, space), line: raw.slice(space + 1) });
    }
  }
  return lines;
}

/** One frame's payload as bytes: logs and exec output are not always text. */
export interface RawFrame {
  stream: LogFrame['stream'];
  data: Buffer;
}

/**
 * Docker's demultiplexer for a stream: takes the engine's bytes as they arrive, in chunks that
 * split frames anywhere, and returns the frames completed so far. `end()` says whether the
 * stream stopped on a frame boundary.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: RawFrame[] = [];
    let offset = 0;
    while (offset + 8 <= this.pending.length) {
      const stream = STREAMS[this.pending[offset]!];
      if (!stream) throw new Error(`malformed log stream: stream id ${this.pending[offset]}`);
      const end = offset + 8 + this.pending.readUInt32BE(offset + 4);
      if (end > this.pending.length) break;
      frames.push({ stream, data: this.pending.subarray(offset + 8, end) });
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
    return frames;
  }

  /** True when no partial frame is left over. */
  end(): boolean {
    return this.pending.length === 0;
  }

  /** Bytes of a partial frame held back, waiting for the rest. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}
