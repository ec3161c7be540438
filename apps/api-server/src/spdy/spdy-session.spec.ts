import { afterEach, describe, expect, it } from '@jest/globals';

import {
  controlFrame,
  dataFrame,
  FrameReader,
  FrameType,
  MAX_FRAME_PAYLOAD,
  SpdyProtocolError,
} from './spdy-frames.js';
import { decodeHeaderBlock, encodeHeaderBlock } from './spdy-headers.js';
import { SpdyServerSession, type SpdyStream } from './spdy-session.js';
import { eventually, SpdyTestClient } from './spdy-test-client.js';

describe('SPDY frames and header blocks', () => {
  it('cuts frames out of a byte stream however it is chunked', () => {
    const bytes = Buffer.concat([
      dataFrame(1, Buffer.from('hello')),
      controlFrame(FrameType.ping, 0, Buffer.from([0, 0, 0, 7])),
      dataFrame(3, Buffer.alloc(0), true),
    ]);
    const reader = new FrameReader();
    const frames = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
    expect(frames).toEqual([
      { control: false, streamId: 1, flags: 0, data: Buffer.from('hello') },
      { control: true, version: 3, type: FrameType.ping, flags: 0, payload: Buffer.from([0, 0, 0, 7]) },
      { control: false, streamId: 3, flags: 1, data: Buffer.alloc(0) },
    ]);
    expect(new FrameReader().push(bytes)).toEqual(frames);
  });

  it('refuses a frame longer than it takes, from its head alone', () => {
    const head = Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]);
    head.writeUIntBE(MAX_FRAME_PAYLOAD + 1, 5, 3);
    expect(() => new FrameReader().push(head)).toThrow(SpdyProtocolError);
  });

  it('encodes and decodes header blocks; several values of a name are NUL-separated', () => {
    const block = encodeHeaderBlock({ StreamType: 'data', port: '8080' });
    expect(decodeHeaderBlock(block)).toEqual(
      new Map([
        ['streamtype', ['data']],
        ['port', ['8080']],
      ]),
    );
    const multi = Buffer.concat([
      block.subarray(0, 4),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('a'),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from('x\0y'),
    ]);
    multi.writeUInt32BE(1);
    expect(decodeHeaderBlock(multi)).toEqual(new Map([['a', ['x', 'y']]]));
  });

  it('refuses malformed header blocks: an upper-case name, a block cut short, bytes left over', () => {
    const upper = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0x41, 0, 0, 0, 0]);
    expect(() => decodeHeaderBlock(upper)).toThrow('not lower case');
    expect(() => decodeHeaderBlock(encodeHeaderBlock({ port: '80' }).subarray(0, 10))).toThrow(
      SpdyProtocolError,
    );
    expect(() => decodeHeaderBlock(Buffer.concat([encodeHeaderBlock({}), Buffer.from([1])]))).toThrow(
      'after the last header',
    );
  });
});

describe('SpdyServerSession', () => {
  let client: SpdyTestClient;
  afterEach(() => {
    client?.hangUp();
    client?.close();
  });

  function start(onStream: (s: SpdyStream) => void = () => {}) {
    client = new SpdyTestClient();
    const errors: Error[] = [];
    const session = new SpdyServerSession(client.server, onStream, (e) => errors.push(e));
    return { session, errors };
  }

  it('hands over a client stream with its headers, answers it, and writes data and FIN on it', async () => {
    const streams: SpdyStream[] = [];
    start((s) => streams.push(s));
    await client.open(1, { streamType: 'data', port: '80' });
    await eventually(() => streams.length === 1);
    expect(streams[0]!.id).toBe(1);
    expect(streams[0]!.header('streamType')).toBe('data');
    await streams[0]!.reply();
    expect(await client.waitFor((f) => f.kind === 'reply', 'SYN_REPLY')).toEqual({
      kind: 'reply',
      streamId: 1,
      headers: new Map(),
    });
    // Larger than a data frame carries: split, in order.
    const body = Buffer.alloc(70_000, 'z');
    await streams[0]!.write(body);
    await streams[0]!.end();
    await client.waitFor((f) => f.kind === 'data' && f.fin, 'FIN');
    const frames = (await client.frames()).filter((f) => f.kind === 'data');
    expect(frames.map((f) => f.kind === 'data' && f.data.length)).toEqual([32768, 32768, 4464, 0]);
    expect(await client.stream(1)).toEqual({ data: body.toString(), fin: true });
  });

  it('puts a stream’s SYN_REPLY on the wire before its data, even when its owner writes, ends and closes the session without waiting for the reply', async () => {
    // A command that ends at once (kubectl exec of `hostname`): its output, FIN and the
    // session's end all follow the reply of the last stream, whose header block is still being
    // compressed. kubectl waits 30 s for a reply that never comes, otherwise.
    const { session } = start((s) => {
      void s.reply();
      void (async () => {
        await s.write(Buffer.from('out'));
        await s.end();
        session.close();
      })();
    });
    await client.open(1, { streamType: 'stdout' });
    await client.waitFor((f) => f.kind === 'goaway', 'GOAWAY');
    expect((await client.frames()).map((f) => f.kind)).toEqual(['reply', 'data', 'data', 'goaway']);
  });

  it('passes the client’s data in order, then its FIN; a reset or the client leaving ends the stream', async () => {
    const got: string[] = [];
    const streams: SpdyStream[] = [];
    start((s) => {
      streams.push(s);
      s.onData = (d) => void got.push(`${s.id}:${d.toString()}`);
      s.onEnd = () => void got.push(`${s.id}:end`);
      s.onGone = () => void got.push(`${s.id}:gone`);
    });
    await client.open(1, {});
    await client.open(3, {});
    client.data(1, 'a');
    client.data(3, 'b');
    client.data(1, 'c', true);
    client.reset(3);
    await eventually(() => got.length === 5);
    expect(got).toEqual(['1:a', '3:b', '1:c', '1:end', '3:gone']);
    client.hangUp();
    await eventually(() => got.length === 6);
    expect(got[5]).toBe('1:gone');
  });

  it('echoes pings, and answers data on a stream it does not know with RST_STREAM INVALID_STREAM', async () => {
    start();
    client.send(controlFrame(FrameType.ping, 0, Buffer.from([0, 0, 0, 9])));
    expect(await client.waitFor((f) => f.kind === 'ping', 'ping')).toEqual({ kind: 'ping', id: 9 });
    client.data(7, 'stray');
    expect(await client.waitFor((f) => f.kind === 'rst', 'RST')).toEqual({
      kind: 'rst',
      streamId: 7,
      status: 2,
    });
  });

  it('goes away with PROTOCOL_ERROR on a stream id a client may not use, and ends', async () => {
    const { session, errors } = start();
    await client.open(1, {});
    await client.open(4, {});
    expect(await client.waitFor((f) => f.kind === 'goaway', 'GOAWAY')).toEqual({
      kind: 'goaway',
      lastStreamId: 1,
      status: 1,
    });
    await session.done;
    expect(errors.map((e) => e.message)).toEqual(['stream id 4 after 1 (client streams are odd and rising)']);
  });

  it('goes away with PROTOCOL_ERROR on a header block that does not inflate', async () => {
    const { session } = start();
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(1);
    client.send(controlFrame(FrameType.synStream, 0, Buffer.concat([fixed, Buffer.from('not zlib')])));
    expect(await client.waitFor((f) => f.kind === 'goaway', 'GOAWAY')).toMatchObject({ status: 1 });
    await session.done;
  });
});
