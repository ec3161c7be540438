import { Duplex, PassThrough } from 'node:stream';

import {
  controlFrame,
  dataFrame,
  type Frame,
  FrameReader,
  FrameType,
  rstStreamFrame,
  streamOf,
} from './spdy-frames.js';
import { type HeaderBlock, HeaderDeflater, HeaderInflater } from './spdy-headers.js';

/** Polls (bounded) until `condition` holds; a test's expectation when it never does. */
export async function eventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`still not so after 200 looks: ${condition.toString()}`);
}

/** What the client saw of one server frame, its header block inflated. */
export type Seen =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'reply'; streamId: number; headers: HeaderBlock }
  | { kind: 'rst'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goaway'; lastStreamId: number; status: number };

/**
 * The client's end of an in-memory SPDY connection, for unit tests of the server session:
 * `server` is the transport to give the session; the client writes frames (its header blocks
 * compressed by its own zlib context, as kubectl's are) and reads the server's.
 */
export class SpdyTestClient {
  private readonly toServer = new PassThrough();
  private readonly toClient = new PassThrough();
  readonly server: Duplex = Duplex.from({ readable: this.toServer, writable: this.toClient });
  private readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  private readonly reader = new FrameReader();
  private readonly seen: Seen[] = [];
  private parsing: Promise<void> = Promise.resolve();
  /** Why reading the server's frames failed: the next look at them throws it. */
  private failure: Error | undefined;
  private closed = false;

  constructor() {
    this.toClient.on('data', (chunk: Buffer) => {
      // Frames the server sends after the test closed the client (and its zlib context) are
      // not the test's any more: parsing them would fail where no test could see it.
      if (this.closed) return;
      const frames = this.reader.push(chunk);
      this.parsing = this.parsing.then(async () => {
        try {
          for (const f of frames) if (!this.closed) this.seen.push(await this.read(f));
        } catch (e) {
          this.failure ??= e as Error;
        }
      });
    });
  }

  async open(streamId: number, headers: Record<string, string>, fin = false): Promise<void> {
    const block = await this.deflater.deflate(headers);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(streamId);
    this.toServer.write(controlFrame(FrameType.synStream, fin ? 1 : 0, Buffer.concat([fixed, block])));
  }

  send(frame: Buffer): void {
    this.toServer.write(frame);
  }

  data(streamId: number, data: string | Buffer, fin = false): void {
    this.send(dataFrame(streamId, Buffer.from(data), fin));
  }

  reset(streamId: number): void {
    this.send(rstStreamFrame(streamId, 5));
  }

  /** The client goes away. */
  hangUp(): void {
    this.toServer.end();
  }

  /** Every frame seen so far, once those already sent are parsed. */
  async frames(): Promise<Seen[]> {
    await new Promise((r) => setImmediate(r));
    await this.parsing;
    if (this.failure) throw this.failure;
    return [...this.seen];
  }

  /** Waits (bounded) until a seen frame matches. */
  async waitFor(match: (s: Seen) => boolean, what: string): Promise<Seen> {
    for (let i = 0; i < 200; i++) {
      const found = (await this.frames()).find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no ${what} among ${JSON.stringify(await this.frames())}`);
  }

  /** The bytes the server sent on a stream, and whether it ended it. */
  async stream(streamId: number): Promise<{ data: string; fin: boolean }> {
    const frames = (await this.frames()).filter(
      (s): s is Extract<Seen, { kind: 'data' }> => s.kind === 'data' && s.streamId === streamId,
    );
    return { data: Buffer.concat(frames.map((f) => f.data)).toString(), fin: frames.some((f) => f.fin) };
  }

  close(): void {
    this.closed = true;
    this.deflater.close();
    this.inflater.close();
  }

  private async read(f: Frame): Promise<Seen> {
    if (!f.control) return { kind: 'data', streamId: f.streamId, fin: (f.flags & 1) !== 0, data: f.data };
    switch (f.type) {
      case FrameType.synReply: {
        const { streamId, rest } = streamOf(f);
        return { kind: 'reply', streamId, headers: await this.inflater.inflate(rest) };
      }
      case FrameType.rstStream:
        return { kind: 'rst', streamId: f.payload.readUInt32BE(0), status: f.payload.readUInt32BE(4) };
      case FrameType.ping:
        return { kind: 'ping', id: f.payload.readUInt32BE(0) };
      case FrameType.goAway:
        return { kind: 'goaway', lastStreamId: f.payload.readUInt32BE(0), status: f.payload.readUInt32BE(4) };
      default:
        throw new Error(`the server sent a control frame of type ${f.type}`);
    }
  }
}
