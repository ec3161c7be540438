import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as natsConnect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer, waitFor } from '@app/dev-servers';

import { StreamOpenError, StreamRefused } from '../node-streams/stream-open.js';
import { type ExecParams, openExec } from './exec-client.js';
import { STREAM_KIND_HEADER, STREAM_SEQ_HEADER } from '../node-streams/stream-link.js';
import { type ExecRequest, type TerminalSize } from './exec-protocol.js';
import {
  type ExecOutput,
  type ExecProcess,
  type ExecStarter,
  type ExecTarget,
  serveExec,
} from './exec-responder.js';

/**
 * A command the test drives by hand, so the protocol's guarantees — order, flow control,
 * cancel, a vanished peer — can be watched from both ends over a real nats-server. (The Docker
 * side is exercised end to end in apps/node-agent/test/streams-exec.int-spec.ts.)
 */
class ScriptedTarget implements ExecTarget {
  started: { request: ExecRequest; output: ExecOutput; process: ScriptedProcess }[] = [];

  async open(request: ExecRequest): Promise<ExecStarter> {
    if (request.container === 'missing') throw new StreamRefused(500, 'container not found ("missing")');
    return (output) => this.start(request, output);
  }

  private async start(request: ExecRequest, output: ExecOutput): Promise<ExecProcess> {
    const process = new ScriptedProcess();
    this.started.push({ request, output, process });
    return process;
  }

  last() {
    return this.started.at(-1)!;
  }
}

class ScriptedProcess implements ExecProcess {
  stdin: string[] = [];
  stdinClosed = false;
  resizes: TerminalSize[] = [];
  detached = false;
  /** While set, stdin writes wait for it: a command that does not read. */
  stdinGate: Promise<void> | undefined;
  stdinWaiting = 0;
  private finish!: (code: number) => void;
  readonly exit = new Promise<number>((resolve) => (this.finish = resolve));

  async writeStdin(data: Uint8Array): Promise<void> {
    this.stdinWaiting++;
    await this.stdinGate;
    this.stdinWaiting--;
    this.stdin.push(Buffer.from(data).toString());
  }
  closeStdin(): void {
    this.stdinClosed = true;
  }
  async resize(size: TerminalSize): Promise<void> {
    this.resizes.push(size);
  }
  detach(): void {
    this.detached = true;
  }
  end(code: number): void {
    this.finish(code);
  }
}

describe('the NATS exec protocol', () => {
  let nats: NatsServer;
  let agent: NatsConnection;
  let api: NatsConnection;
  const target = new ScriptedTarget();
  const params = (container = 'app'): ExecParams => ({
    namespace: 'default',
    pod: 'web',
    container,
    command: ['sh'],
    stdin: true,
    stdout: true,
    stderr: true,
    tty: false,
  });
  const fast = { pingMs: 100, window: 4 };

  beforeAll(async () => {
    nats = await NatsServer.temporary('wake-exec-nats-');
    agent = await natsConnect({ servers: nats.url });
    api = await natsConnect({ servers: nats.url });
    serveExec(agent, 'node-1', target);
    await agent.flush();
  });
  afterAll(async () => {
    await agent?.close();
    await api?.close();
    await nats?.destroy();
  });

  it('carries output in order and holds a fast producer to the window of a slow reader', async () => {
    const session = await openExec(api, 'node-1', params(), fast);
    const { output, process } = target.last();
    let produced = 0;
    let consumed = 0;
    let mostAhead = 0;
    const producing = (async () => {
      for (let i = 0; i < 40; i++) {
        await output.write(i % 2 ? 'stderr' : 'stdout', new TextEncoder().encode(`chunk ${i}`));
        produced++;
        mostAhead = Math.max(mostAhead, produced - consumed);
      }
      process.end(7);
    })();
    const seen: string[] = [];
    const exit = await session.run(async (stream, data) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(`${stream} ${Buffer.from(data).toString()}`);
      consumed++;
    });
    await producing;
    expect(exit).toEqual({ exitCode: 7 });
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'stderr' : 'stdout'} chunk ${i}`));
    // The producer is never more than a window ahead of what the reader has finished with.
    expect(mostAhead).toBeLessThanOrEqual(fast.window);
  });

  it('carries stdin, its close and resizes in order, and holds the writer back while the command does not read', async () => {
    const session = await openExec(api, 'node-1', params(), fast);
    const { process } = target.last();
    let open!: () => void;
    process.stdinGate = new Promise<void>((r) => (open = r));
    const writes = Array.from({ length: 12 }, (_, i) =>
      session.writeStdin(new TextEncoder().encode(`in ${i};`)),
    );
    let settled = 0;
    for (const w of writes) void w.then(() => settled++);
    const exit = session.run(() => {});
    await waitFor('the command to be handed stdin', () => (process.stdinWaiting === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    // The window's worth went out; the rest waits for the command to read.
    expect(settled).toBe(fast.window);
    open();
    await Promise.all(writes);
    await session.resize({ width: 80, height: 24 });
    await session.closeStdin();
    await waitFor('stdin to close', () => (process.stdinClosed ? true : undefined));
    expect(process.stdin.join('')).toBe(Array.from({ length: 12 }, (_, i) => `in ${i};`).join(''));
    expect(process.resizes).toEqual([{ width: 80, height: 24 }]);
    process.end(0);
    expect(await exit).toEqual({ exitCode: 0 });
  });

  it('ends the session with an error when a message goes missing, never with a hole', async () => {
    const session = await openExec(api, 'node-1', params(), fast);
    const { request } = target.last();
    const run = session.run(() => {});
    // A chunk numbered as if others had come before it: what a dropped message looks like.
    const h = natsHeaders();
    h.set(STREAM_KIND_HEADER, 'stdout');
    h.set(STREAM_SEQ_HEADER, '3');
    api.publish(request.inbox, 'out of order', { headers: h });
    await expect(run).rejects.toThrow('stream message 1 was lost (got 3)');
  });

  it('cancels: the agent detaches from the command and its output stops', async () => {
    const session = await openExec(api, 'node-1', params(), fast);
    const { process, output } = target.last();
    session.cancel();
    await waitFor('the agent to detach', () => (process.detached ? true : undefined));
    expect(output.signal.aborted).toBe(true);
    await expect(output.write('stdout', new Uint8Array(1))).rejects.toThrow();
  });

  it('notices a vanished agent within three ping intervals', async () => {
    const lonely = await natsConnect({ servers: nats.url });
    const ghost = new ScriptedTarget();
    const served = serveExec(lonely, 'node-2', ghost);
    // The subscription is on another connection than the request: the server must have it first.
    await lonely.flush();
    const session = await openExec(api, 'node-2', params(), fast);
    const run = session.run(() => {});
    served.close();
    await lonely.close();
    await expect(run).rejects.toThrow('stopped answering');
  });

  it('passes refusals on with their code, and says when no agent answers', async () => {
    await expect(openExec(api, 'node-1', params('missing'), fast)).rejects.toEqual(
      new StreamOpenError(500, 'container not found ("missing")'),
    );
    const none = openExec(api, 'node-without-agent', params(), { ...fast, openTimeoutMs: 500 });
    await expect(none).rejects.toMatchObject({ code: 503 });
  });
});
