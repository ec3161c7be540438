import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

import { SPDY3_DICTIONARY } from './spdy-dictionary.js';
import { SpdyProtocolError } from './spdy-frames.js';

/**
 * SPDY/3 name/value header blocks (§2.6.10): a 32-bit count, then each name and value as a
 * 32-bit length and its bytes (several values of one name joined by NUL), the whole block
 * compressed by one zlib stream per direction for the life of the connection (with the SPDY
 * dictionary), each block ending on a sync flush. The contexts carry over between blocks, so
 * every block is inflated, in order, even those of frames this side ignores.
 */
export type HeaderBlock = Map<string, string[]>;

export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderBlock {
  let at = 0;
  const take = (): Buffer => {
    if (block.length - at < 4) throw new SpdyProtocolError('a header block ends inside a length');
    const length = block.readUInt32BE(at);
    at += 4;
    if (block.length - at < length) throw new SpdyProtocolError('a header block ends inside a name or value');
    const bytes = block.subarray(at, at + length);
    at += length;
    return bytes;
  };
  if (block.length < 4) throw new SpdyProtocolError('a header block without a count');
  const count = block.readUInt32BE(0);
  at = 4;
  const headers: HeaderBlock = new Map();
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8');
    if (name.length === 0) throw new SpdyProtocolError('a header with an empty name');
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`header name "${name}" is not lower case`);
    const values = take().toString('utf8').split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  if (at !== block.length) throw new SpdyProtocolError('bytes after the last header of a block');
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * One direction's zlib context. Blocks go through it one at a time, in the order given: each
 * is written, then sync-flushed, and what the flush produced read back.
 */
class ZlibContext {
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly stream: Inflate | Deflate) {
    // Errors come back through the flush below; an unhandled 'error' event would end the process.
    stream.on('error', () => {});
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.last.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const failed = (e: Error) => reject(new SpdyProtocolError(`header block: ${e.message}`));
          this.stream.once('error', failed);
          this.stream.write(input);
          this.stream.flush(constants.Z_SYNC_FLUSH, () => {
            this.stream.off('error', failed);
            // The flush's output is in the readable buffer once its callback runs.
            const out: Buffer[] = [];
            for (let chunk: Buffer | null; (chunk = this.stream.read() as Buffer | null) !== null;)
              out.push(chunk);
            resolve(Buffer.concat(out));
          });
        }),
    );
    // A failed block fails the session; the chain only keeps order.
    this.last = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Inflates the peer's header blocks. */
export class HeaderInflater {
  private readonly context = new ZlibContext(createInflate({ dictionary: SPDY3_DICTIONARY }));

  async inflate(compressed: Buffer): Promise<HeaderBlock> {
    return decodeHeaderBlock(await this.context.run(compressed));
  }

  close(): void {
    this.context.close();
  }
}

/** Compresses this side's header blocks. */
export class HeaderDeflater {
  private readonly context = new ZlibContext(createDeflate({ dictionary: SPDY3_DICTIONARY }));

  deflate(headers: Record<string, string>): Promise<Buffer> {
    return this.context.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.context.close();
  }
}
