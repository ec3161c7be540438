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
