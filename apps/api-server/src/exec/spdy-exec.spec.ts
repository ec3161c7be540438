import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type ExecExit,
  type ExecParams,
  type ExecSession,
  type OutputHandler,
  type TerminalSize,
} from '@app/bus';

import { eventually, SpdyTestClient } from '../spdy/spdy-test-client.js';
import { bridgeSpdyExec } from './spdy-exec.js';

/** The agent's side of an exec as the bridge sees it, driven by the test. */
class FakeSession implements ExecSession {
  readonly stdin: string[] = [];
  readonly sizes: TerminalSize[] = [];
  stdinClosed = false;
  cancelled = false;
  running = false;
  private output?: OutputHandler;
  private finish?: (exit: ExecExit) => void;

  run(onOutput: OutputHandler): Promise<ExecExit> {
    this.running = true;
    this.output = onOutput;
    return new Promise((resolve) => (this.finish = resolve));
  }
  async writeStdin(data: Uint8Array): Promise<void> {
    this.stdin.push(Buffer.from(data).toString());
  }
  async closeStdin(): Promise<void> {
    this.stdinClosed = true;
  }
  async resize(size: TerminalSize): Promise<void> {
    this.sizes.push(size);
  }
  cancel(): void {
    this.cancelled = true;
  }
  async emit(stream: 'stdout' | 'stderr', text: string): Promise<void> {
    await this.output?.(stream, Buffer.from(text));
  }
  exit(exit: ExecExit): void {
    this.finish?.(exit);
  }
}

const params = (o: Partial<ExecParams> = {}): ExecParams => ({
  namespace: 'default',
  pod: 'web',
  container: 'main',
  command: ['sh'],
  stdin: false,
  stdout: true,
  stderr: true,
  tty: false,
  ...o,
});

describe('exec over SPDY (remotecommand v4)', () => {
  let client: SpdyTestClient;
  afterEach(() => {
    client?.hangUp();
    client?.close();
  });

  function start(p: ExecParams, streamTimeoutMs = 60_000) {
    client = new SpdyTestClient();
    const session = new FakeSession();
    const spdy = bridgeSpdyExec(client.server, p, session, { streamTimeoutMs });
    return { session, spdy };
  }

  it('runs once every stream asked for is open, copies output to its stream, and ends with the Status', async () => {
    const { session, spdy } = start(params());
    await client.open(1, { streamType: 'error' });
    await client.open(3, { streamType: 'stdout' });
    await new Promise((r) => setTimeout(r, 20));
    expect(session.running).toBe(false);
    await client.open(5, { streamType: 'stderr' });
    await eventually(() => session.running);
    await session.emit('stdout', 'out\n');
    await session.emit('stderr', 'err\n');
    session.exit({ exitCode: 3 });
    // kubectl closes the connection once it has the Status and the session went away.
    await client.waitFor((f) => f.kind === 'goaway', 'GOAWAY');
    client.hangUp();
    await spdy.done;
    expect(await client.stream(3)).toEqual({ data: 'out\n', fin: true });
    expect(await client.stream(5)).toEqual({ data: 'err\n', fin: true });
    const status = JSON.parse((await client.stream(1)).data) as { reason: string; details: unknown };
    expect(status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(session.cancelled).toBe(false);
  });

  it('passes stdin, closes it on the stream’s FIN, and reads sizes off the resize stream line by line', async () => {
    const { session } = start(params({ stdin: true, stderr: false, tty: true }));
    for (const [id, type] of [
      [1, 'error'],
      [3, 'stdin'],
      [5, 'stdout'],
      [7, 'resize'],
    ] as const)
      await client.open(id, { streamType: type });
    await eventually(() => session.running);
    client.data(3, 'echo hi\n');
    client.data(7, '{"Width":80,"Height":24}\n{"Width":1');
    client.data(7, '00,"Height":30}\nnot json\n');
    client.data(3, '', true);
    await eventually(() => session.stdinClosed);
    expect(session.stdin).toEqual(['echo hi\n']);
    expect(session.sizes).toEqual([
      { width: 80, height: 24 },
      { width: 100, height: 30 },
    ]);
  });

  it('resets a stream type it did not ask for, or a second of one type', async () => {
    start(params());
    await client.open(1, { streamType: 'stdin' });
    await client.open(3, { streamType: 'stdout' });
    await client.open(5, { streamType: 'stdout' });
    expect(await client.waitFor((f) => f.kind === 'rst' && f.streamId === 1, 'RST of stdin')).toBeDefined();
    expect(
      await client.waitFor((f) => f.kind === 'rst' && f.streamId === 5, 'RST of the second stdout'),
    ).toBeDefined();
  });

  it('gives up on a client that never opens its streams, and cancels the command when the client leaves', async () => {
    const slow = start(params(), 30);
    await client.waitFor((f) => f.kind === 'goaway', 'GOAWAY');
    client.hangUp();
    await slow.spdy.done;
    expect(slow.session.running).toBe(false);
    expect(slow.session.cancelled).toBe(true);
    client.close();
    const { session, spdy } = start(params({ stderr: false }));
    await client.open(1, { streamType: 'error' });
    await client.open(3, { streamType: 'stdout' });
    await eventually(() => session.running);
    client.hangUp();
    await spdy.done;
    expect(session.cancelled).toBe(true);
  });
});
