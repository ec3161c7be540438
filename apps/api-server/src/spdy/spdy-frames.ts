/**
 * SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2, and SPDY/3.1's flow-control
 * additions), the part a server needs: kubectl's port-forward streams are SPDY streams, over the
 * upgraded connection itself or tunnelled in WebSocket binary messages (kubectl ≥ 1.31).
 *
 * Every frame has an 8-byte head: a control bit; then a 15-bit version and 16-bit type
 * (control frames) or a 31-bit stream id (data frames); then 8 bits of flags and a 24-bit
 * payload length.
 */
export const SPDY_VERSION = 3;

export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** The last frame its sender sends on the stream (a data frame's, a SYN_STREAM's). */
export const FLAG_FIN = 0x01;

/** RST_STREAM status codes (§2.4.2). */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  cancel: 5,
  internalError: 6,
} as const;

/** GOAWAY status codes (§2.6.6). */
export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

/**
 * Larger than any frame kubectl writes (its copies move 32 KiB at a time): a peer announcing
 * more is refused rather than buffered, since the length is 24 bits (16 MiB).
 */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;
/** What one data frame carries at most when this side writes. */
export const MAX_DATA_PAYLOAD = 32 * 1024;

export type Frame =
  | { control: false; streamId: number; flags: number; data: Buffer }
  | { control: true; version: number; type: number; flags: number; payload: Buffer };

/** The peer broke the framing or the protocol: the session goes away with PROTOCOL_ERROR. */
export class SpdyProtocolError extends Error {
  override name = 'SpdyProtocolError';
}

/** Cuts a byte stream, arriving in pieces of any size, into whole frames. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= 8) {
      const length = this.pending.readUIntBE(at + 5, 3);
      if (length > MAX_FRAME_PAYLOAD)
        throw new SpdyProtocolError(`a frame of ${length} bytes (at most ${MAX_FRAME_PAYLOAD} taken)`);
      if (this.pending.length - at < 8 + length) break;
      const first = this.pending.readUInt32BE(at);
      const flags = this.pending[at + 4];
      // A copy: the frame outlives this chunk (queued data), the buffer is reused below.
      const body = Buffer.from(this.pending.subarray(at + 8, at + 8 + length));
      frames.push(
        first & 0x80000000
          ? { control: true, version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload: body }
          : { control: false, streamId: first, flags, data: body },
      );
      at += 8 + length;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}

function head(first: number, flags: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(first >>> 0);
  h.writeUInt32BE(length, 4);
  h[4] = flags;
  return h;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([head((0x8000 | SPDY_VERSION) * 0x10000 + type, flags, payload.length), payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  return Buffer.concat([head(streamId & 0x7fffffff, fin ? FLAG_FIN : 0, data.length), data]);
}

function words(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return controlFrame(
    FrameType.synReply,
    fin ? FLAG_FIN : 0,
    Buffer.concat([words(streamId & 0x7fffffff), headerBlock]),
  );
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.rstStream, 0, words(streamId & 0x7fffffff, status));
}

export function goAwayFrame(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(FrameType.goAway, 0, words(lastGoodStreamId & 0x7fffffff, status));
}

export interface SynStream {
  streamId: number;
  associatedId: number;
  fin: boolean;
  /** Compressed (see spdy-headers.ts). */
  headerBlock: Buffer;
}

export function parseSynStream(frame: Extract<Frame, { control: true }>): SynStream {
  if (frame.payload.length < 10) throw new SpdyProtocolError('a SYN_STREAM shorter than 10 bytes');
  return {
    streamId: frame.payload.readUInt32BE(0) & 0x7fffffff,
    associatedId: frame.payload.readUInt32BE(4) & 0x7fffffff,
    fin: (frame.flags & FLAG_FIN) !== 0,
    headerBlock: frame.payload.subarray(10),
  };
}

/** The stream a RST_STREAM, HEADERS or WINDOW_UPDATE frame is about, and what follows it. */
export function streamOf(frame: Extract<Frame, { control: true }>): { streamId: number; rest: Buffer } {
  if (frame.payload.length < 4)
    throw new SpdyProtocolError(`a control frame of type ${frame.type} without a stream`);
  return { streamId: frame.payload.readUInt32BE(0) & 0x7fffffff, rest: frame.payload.subarray(4) };
}
