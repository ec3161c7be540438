import { type Duplex } from 'node:stream';

import {
  controlFrame,
  dataFrame,
  type Frame,
  FrameReader,
  FrameType,
  goAwayFrame,
  GoAwayStatus,
  MAX_DATA_PAYLOAD,
  parseSynStream,
  rstStreamFrame,
  RstStatus,
  SPDY_VERSION,
  SpdyProtocolError,
  streamOf,
  synReplyFrame,
} from './spdy-frames.js';
import { type HeaderBlock, HeaderDeflater, HeaderInflater } from './spdy-headers.js';

/** How long a transport this side has ended may stay open for the client to close its side. */
const CLOSE_GRACE_MS = 5_000;

/**
 * A stream the client opened. Its owner sets the handlers when it is handed over (before any
 * of its data is read) and answers it with `reply()` before writing.
 */
export class SpdyStream {
  /** Its data, in order; the session reads no further frame until the promise settled. */
  onData: (data: Buffer) => Promise<void> | void = () => {};
  /** The client will send no more on it. */
  onEnd: () => void = () => {};
  /** The client reset it, or the session ended: nothing more goes either way. */
  onGone: () => void = () => {};
  private ended = false;
  private gone = false;
  /**
   * Its SYN_REPLY on the wire (it is compressed first, asynchronously). Writes wait for it: data
   * before the reply is lost to the client, and a session that ends meanwhile would drop the
   * reply itself, leaving the client waiting 30 s for it ("Timeout occurred").
   */
  private replied?: Promise<void>;

  constructor(
    readonly id: number,
    readonly headers: HeaderBlock,
    private readonly session: SpdyServerSession,
  ) {}

  /** Reset by the client, or its session ended: nothing more goes either way. */
  get isGone(): boolean {
    return this.gone;
  }

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** SYN_REPLY: the stream is accepted (the client waits for it before it writes or reads). */
  reply(): Promise<void> {
    return (this.replied ??= this.session.reply(this.id));
  }

  /** Resolves once the transport took it (its buffer drained): a slow client holds the writer back. */
  async write(data: Uint8Array): Promise<void> {
    await this.replied;
    if (this.ended || this.gone) return;
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at < bytes.length; at += MAX_DATA_PAYLOAD)
      await this.session.send(dataFrame(this.id, bytes.subarray(at, at + MAX_DATA_PAYLOAD)));
  }

  /** This side will send no more on it (a data frame with FIN). */
  async end(): Promise<void> {
    if (this.ended || this.gone) return;
    this.ended = true;
    await this.replied;
    await this.session.send(dataFrame(this.id, Buffer.alloc(0), true));
  }

  /** RST_STREAM: the stream ends both ways at once. */
  reset(status: number = RstStatus.cancel): void {
    if (this.gone) return;
    void this.session.send(rstStreamFrame(this.id, status));
    this.closed();
  }

  /** @internal */
  closed(): void {
    if (this.gone) return;
    this.gone = true;
    this.session.forget(this.id);
    this.onGone();
  }
}

/**
 * The server side of a SPDY/3.1 session on a byte transport (an upgraded socket, or a
 * WebSocket's binary messages): streams the client opens are handed to `onStream`; pings are
 * echoed; SETTINGS and WINDOW_UPDATE are read and let be — kubectl's SPDY library does not flow-
 * control, so TCP's backpressure (the transport's, and each stream's handler holding the reads
 * back) is what paces both sides. A protocol error sends GOAWAY and ends the session.
 */
export class SpdyServerSession {
  private readonly reader = new FrameReader();
  private readonly inflater = new HeaderInflater();
  private readonly deflater = new HeaderDeflater();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private ending = false;
  /** Resolves once the session ended (the client went away, or a protocol error). */
  readonly done: Promise<void>;

  constructor(
    private readonly io: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    // A transport error ends the read loop below; without a listener it would end the process.
    io.on('error', () => {});
    this.done = this.serve();
  }

  /** Ends the session: GOAWAY, then this side of the transport; a client that does not close its side is cut off after a grace period. */
  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.io.end(goAwayFrame(this.lastStreamId, GoAwayStatus.ok));
    setTimeout(() => this.io.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** @internal writes a frame; resolves once the transport's buffer has room again. */
  send(frame: Buffer): Promise<void> {
    if (this.ending || this.io.destroyed || this.io.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.io.write(frame)) return resolve();
      const done = () => {
        this.io.off('drain', done);
        this.io.off('close', done);
        resolve();
      };
      this.io.on('drain', done);
      this.io.on('close', done);
    });
  }

  /** @internal SYN_REPLY with no headers. Compressed and written in one queued step: blocks reach the wire in the order the shared zlib context made them. */
  async reply(streamId: number): Promise<void> {
    const block = await this.deflater.deflate({});
    await this.send(synReplyFrame(streamId, block));
  }

  /** @internal */
  forget(streamId: number): void {
    this.streams.delete(streamId);
  }

  private async serve(): Promise<void> {
    try {
      // Not destroyed when the loop ends early (a protocol error): the GOAWAY must still go out.
      for await (const chunk of this.io.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        for (const frame of this.reader.push(chunk)) await this.handle(frame);
      }
    } catch (e) {
      if (e instanceof SpdyProtocolError) {
        this.onError(e);
        if (!this.ending) {
          this.ending = true;
          this.io.end(goAwayFrame(this.lastStreamId, GoAwayStatus.protocolError));
        }
      }
      // Else the transport failed (the client vanished): the streams end below.
    } finally {
      for (const stream of [...this.streams.values()]) stream.closed();
      this.inflater.close();
      this.deflater.close();
      // Ended, not destroyed: what is queued (a GOAWAY) still goes out; a peer that never
      // closes its side does not keep the transport past a grace period.
      if (!this.io.writableEnded) this.io.end();
      setTimeout(() => this.io.destroy(), CLOSE_GRACE_MS).unref();
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream) {
        // Data after a reset crosses it on the wire: say the stream is gone, nothing more.
        void this.send(rstStreamFrame(frame.streamId, RstStatus.invalidStream));
        return;
      }
      if (frame.data.length > 0) await stream.onData(frame.data);
      if (frame.flags & 0x01) stream.onEnd();
      return;
    }
    if (frame.version !== SPDY_VERSION)
      throw new SpdyProtocolError(`SPDY version ${frame.version} (this side speaks 3.1)`);
    switch (frame.type) {
      case FrameType.synStream:
        return this.opened(frame);
      case FrameType.rstStream:
        this.streams.get(streamOf(frame).streamId)?.closed();
        return;
      case FrameType.ping:
        // Echoed as it came (§2.6.5): the client's ids are odd, and it counts the answers.
        if (frame.payload.length !== 4) throw new SpdyProtocolError('a PING without a 4-byte id');
        void this.send(controlFrame(FrameType.ping, 0, frame.payload));
        return;
      case FrameType.goAway:
        // The client opens nothing more; what it has open runs to its end.
        return;
      case FrameType.headers:
        // Nothing in them matters here, but the shared zlib context must see every block.
        await this.inflater.inflate(streamOf(frame).rest);
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and anything newer: nothing this side needs.
        return;
    }
  }

  private async opened(frame: Extract<Frame, { control: true }>): Promise<void> {
    const syn = parseSynStream(frame);
    // Inflated before any check: a refused stream's block is still part of the context.
    const headers = await this.inflater.inflate(syn.headerBlock);
    if (syn.streamId % 2 === 0 || syn.streamId <= this.lastStreamId)
      throw new SpdyProtocolError(
        `stream id ${syn.streamId} after ${this.lastStreamId} (client streams are odd and rising)`,
      );
    this.lastStreamId = syn.streamId;
    if (this.ending) {
      void this.send(rstStreamFrame(syn.streamId, RstStatus.refusedStream));
      return;
    }
    const stream = new SpdyStream(syn.streamId, headers, this);
    this.streams.set(syn.streamId, stream);
    this.onStream(stream);
    if (syn.fin) stream.onEnd();
  }
}
