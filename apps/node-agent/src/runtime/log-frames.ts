/**
 * Docker multiplexes a non-TTY container's stdout and stderr into one stream of frames: an
 * 8-byte header (stream id, three zero bytes, big-endian payload length) before each payload.
 */
export interface LogFrame {
  stream: 'stdout' | 'stderr';
  text: string;
}

const STREAMS: Record<number, LogFrame['stream']> = { 1: 'stdout', 2: 'stderr' };

export function demuxLogs(buffer: Buffer): LogFrame[] {
  const frames: LogFrame[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const stream = STREAMS[buffer[offset]!];
    const length = buffer.readUInt32BE(offset + 4);
    const end = offset + 8 + length;
    if (!stream || end > buffer.length) throw new Error(`malformed log stream at byte ${offset}`);
    frames.push({ stream, text: buffer.subarray(offset + 8, end).toString('utf8') });
    offset = end;
  }
  if (offset !== buffer.length) throw new Error(`log stream ends inside a frame header at byte ${offset}`);
  return frames;
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
 * `demuxLogs` for a stream: takes the engine's bytes as they arrive, in chunks that split
 * frames anywhere, and returns the frames completed so far. `end()` says whether the stream
 * stopped on a frame boundary.
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
}
