import { afterEach, describe, expect, it } from '@jest/globals';
import { type PortForwardConnection } from '@app/bus';

import { SpdyServerSession } from '../spdy/spdy-session.js';
import { eventually, SpdyTestClient } from '../spdy/spdy-test-client.js';
import { type StreamPairOptions, StreamPairs } from './stream-pairs.js';

/** A pod connection as the node agent's link presents it, driven by the test. */
class FakeConnection implements PortForwardConnection {
  readonly written: string[] = [];
  closedWrite = false;
  cancelled = false;
  private deliver?: (data: Uint8Array) => Promise<void> | void;
  private settle?: { resolve(): void; reject(e: Error): void };

  run(onData: (data: Uint8Array) => Promise<void> | void): Promise<void> {
    this.deliver = onData;
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
  async write(data: Uint8Array): Promise<void> {
    this.written.push(Buffer.from(data).toString());
  }
  async closeWrite(): Promise<void> {
    this.closedWrite = true;
  }
  cancel(): void {
    this.cancelled = true;
    // As the real link: a cancelled connection's run() ends without the pod having closed.
    this.settle?.reject(new Error('the port forward ended before the pod closed it'));
  }
  /** The pod sends. */
  async fromPod(text: string): Promise<void> {
    await this.deliver?.(Buffer.from(text));
  }
  /** The pod closed its end, or the connection broke. */
  end(error?: Error): void {
    if (error) this.settle?.reject(error);
    else this.settle?.resolve();
  }
}

describe('StreamPairs (kubectl’s port-forward streams)', () => {
  let client: SpdyTestClient;
  afterEach(() => {
    client?.hangUp();
    client?.close();
  });

  function start(o: Partial<StreamPairOptions> = {}) {
    client = new SpdyTestClient();
    const connections: { port: number; connection: FakeConnection }[] = [];
    const finished: (string | undefined)[] = [];
    const pairs = new StreamPairs({
      pod: 'web_default',
      uid: 'u-1',
      pairTimeoutMs: 60_000,
      connect: async (port) => {
        const connection = new FakeConnection();
        connections.push({ port, connection });
        return connection;
      },
      onFinished: (error) => finished.push(error),
      ...o,
    });
    const session = new SpdyServerSession(client.server, (s) => pairs.add(s));
    void session.done.then(() => pairs.close());
    return { connections, finished };
  }

  const pair = async (requestId: string, port = '8080', first = 1) => {
    await client.open(first, { streamType: 'error', port, requestID: requestId });
    await client.open(first + 2, { streamType: 'data', port, requestID: requestId });
  };

  it('answers both streams, connects once the pair is whole, and carries bytes both ways until the pod ends', async () => {
    const { connections, finished } = start();
    await pair('0');
    await eventually(() => connections.length === 1);
    expect(connections[0]!.port).toBe(8080);
    // The client inflates each reply's header block asynchronously: wait for the second one.
    await client.waitFor((f) => f.kind === 'reply' && f.streamId === 3, 'the data stream’s reply');
    const replies = (await client.frames())
      .filter((f) => f.kind === 'reply')
      .map((f) => f.kind === 'reply' && f.streamId);
    expect(replies).toEqual([1, 3]);
    const c = connections[0]!.connection;
    client.data(3, 'GET / HTTP/1.0\r\n\r\n');
    await eventually(() => c.written.length === 1);
    expect(c.written).toEqual(['GET / HTTP/1.0\r\n\r\n']);
    await c.fromPod('HTTP/1.0 200 OK\r\n\r\nhi');
    client.data(3, '', true);
    await eventually(() => c.closedWrite);
    c.end();
    await client.waitFor((f) => f.kind === 'data' && f.streamId === 1 && f.fin, 'FIN on the error stream');
    expect(await client.stream(3)).toEqual({ data: 'HTTP/1.0 200 OK\r\n\r\nhi', fin: true });
    expect(await client.stream(1)).toEqual({ data: '', fin: true });
    expect(finished).toEqual([undefined]);
  });

  it('holds bytes the client sends before the pod’s side is connected, and delivers them first', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const made: FakeConnection[] = [];
    start({
      connect: async () => {
        await gate;
        const c = new FakeConnection();
        made.push(c);
        return c;
      },
    });
    await pair('0');
    client.data(3, 'early');
    client.data(3, 'later');
    await new Promise((r) => setTimeout(r, 20));
    release();
    await eventually(() => made[0]?.written.length === 2);
    expect(made[0]!.written).toEqual(['early', 'later']);
  });

  it('writes a connection the agent could not make on the error stream, in the kubelet’s words, and ends both', async () => {
    const { finished } = start({
      connect: async () => {
        throw new Error('failed to connect to 10.0.0.5:9999 inside the pod: connect ECONNREFUSED');
      },
    });
    await pair('7', '9999');
    await client.waitFor((f) => f.kind === 'data' && f.streamId === 3 && f.fin, 'FIN on the data stream');
    const message =
      'error forwarding port 9999 to pod web_default, uid u-1: failed to connect to 10.0.0.5:9999 inside the pod: connect ECONNREFUSED';
    await client.waitFor((f) => f.kind === 'data' && f.streamId === 1 && f.fin, 'FIN on the error stream');
    expect(await client.stream(1)).toEqual({ data: message, fin: true });
    expect(finished).toEqual([message]);
  });

  it('pairs by request id, whatever the order, and refuses streams the kubelet refuses with a reset', async () => {
    const { connections } = start();
    await client.open(1, { streamType: 'error', port: '80', requestID: 'a' });
    await client.open(3, { streamType: 'error', port: '81', requestID: 'b' });
    await client.open(5, { streamType: 'data', port: '81', requestID: 'b' });
    await client.open(7, { streamType: 'data', port: '80', requestID: 'a' });
    await eventually(() => connections.length === 2);
    expect(connections.map((c) => c.port)).toEqual([81, 80]);
    for (const [id, headers] of [
      [9, { streamType: 'data', port: '0', requestID: 'c' }],
      [11, { streamType: 'data', port: 'http', requestID: 'c' }],
      [13, { streamType: 'data', port: '70000', requestID: 'c' }],
      [15, { streamType: 'weird', port: '80', requestID: 'c' }],
      [17, { port: '80', requestID: 'c' }],
      // A second data stream for a pair that has one.
      [19, { streamType: 'data', port: '80', requestID: 'a' }],
    ] as const) {
      await client.open(id, headers);
      expect(
        await client.waitFor((f) => f.kind === 'rst' && f.streamId === id, `RST of ${id}`),
      ).toMatchObject({ status: 1 });
    }
    expect(connections).toHaveLength(2);
  });

  it('pairs streams without request ids as error n, data n + 2 (clients before request ids)', async () => {
    const { connections } = start();
    await client.open(1, { streamType: 'error', port: '80' });
    await client.open(3, { streamType: 'data', port: '80' });
    await eventually(() => connections.length === 1);
  });

  it('times out a pair whose second stream never comes, saying so on its error stream', async () => {
    const { connections } = start({ pairTimeoutMs: 30 });
    await client.open(1, { streamType: 'error', port: '80', requestID: 'x' });
    await client.waitFor((f) => f.kind === 'data' && f.streamId === 1 && f.fin, 'FIN on the error stream');
    expect(await client.stream(1)).toEqual({ data: 'timed out waiting for streams', fin: true });
    expect(connections).toHaveLength(0);
  });

  it('cuts a connection the client closed once the pod had its grace period, telling no error', async () => {
    const { connections, finished } = start({ closeGraceMs: 20 });
    await pair('0');
    await eventually(() => connections.length === 1);
    const c = connections[0]!.connection;
    await c.fromPod('still streaming');
    client.data(3, '', true);
    await eventually(() => c.closedWrite);
    expect(c.cancelled).toBe(false);
    await eventually(() => c.cancelled);
    await client.waitFor((f) => f.kind === 'data' && f.streamId === 1 && f.fin, 'FIN on the error stream');
    expect(await client.stream(1)).toEqual({ data: '', fin: true });
    expect(await client.stream(3)).toEqual({ data: 'still streaming', fin: true });
    expect(finished).toEqual([undefined]);
  });

  it('cancels the pod’s connection when the client resets its data stream, or goes away', async () => {
    const { connections } = start();
    await pair('0');
    await pair('1', '8080', 5);
    await eventually(() => connections.length === 2);
    client.reset(3);
    await eventually(() => connections[0]!.connection.cancelled);
    expect(connections[1]!.connection.cancelled).toBe(false);
    client.hangUp();
    await eventually(() => connections[1]!.connection.cancelled);
  });
});
