import { type IncomingMessage } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import WebSocket from 'ws';

import {
  type ExecOutput,
  type ExecProcess,
  type ExecRequest,
  type ExecStarter,
  type ExecTarget,
  serveExec,
  StreamRefused,
  type TerminalSize,
} from '@app/bus';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/**
 * Plays a node agent's exec endpoint: the command echoes stdin to stdout in upper case, writes
 * its arguments to stderr, and once stdin closes exits with the number of bytes it read.
 */
class EchoTarget implements ExecTarget {
  requests: ExecRequest[] = [];
  resizes: TerminalSize[] = [];
  detached = 0;

  async open(request: ExecRequest): Promise<ExecStarter> {
    if (request.container === 'stopped') throw new StreamRefused(500, 'container not found ("stopped")');
    return (output) => this.start(request, output);
  }

  private async start(request: ExecRequest, output: ExecOutput): Promise<ExecProcess> {
    this.requests.push(request);
    let read = 0;
    let finish!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (finish = resolve));
    await output.write('stderr', new TextEncoder().encode(request.command.join(' ')));
    return {
      writeStdin: async (data) => {
        read += data.length;
        await output.write('stdout', new TextEncoder().encode(Buffer.from(data).toString().toUpperCase()));
      },
      closeStdin: () => finish(read),
      resize: async (size) => void this.resizes.push(size),
      exit,
      detach: () => {
        this.detached++;
        finish(-1);
      },
    };
  }
}

interface Frames {
  ws: WebSocket;
  frames: Buffer[];
  closed: Promise<number>;
  /** Concatenated payloads of one channel. */
  text(channel: number): string;
}

describe('pods/exec over the WebSocket streaming protocol', () => {
  let c: ApiCluster;
  let nc: NatsConnection;
  const target = new EchoTarget();
  const pods = '/api/v1/namespaces/default/pods';
  const base = (name: string, query: string, subresource = 'exec') =>
    `${c.server.url.replace('https', 'wss')}${pods}/${name}/${subresource}?${query}`;

  beforeAll(async () => {
    // Short request timeouts: a session must outlive them (it is no longer a request).
    c = await startApiCluster({ requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 });
    nc = await natsConnect({ servers: c.natsUrl });
    serveExec(nc, 'node-1', target);
    const pod = (name: string, containers: string[], nodeName?: string) => ({
      metadata: { name },
      spec: {
        ...(nodeName ? { nodeName } : {}),
        containers: containers.map((n) => ({ name: n, image: 'busybox' })),
      },
    });
    for (const body of [
      pod('web', ['app'], 'node-1'),
      pod('two', ['a', 'b'], 'node-1'),
      pod('pending', ['app']),
      pod('halted', ['stopped'], 'node-1'),
    ])
      expect((await c.api('POST', pods, body)).status).toBe(201);
  });
  let closed = false;
  afterAll(async () => {
    await nc?.close();
    if (!closed) await c?.close();
  });

  function open(url: string, protocols: string[], token?: string): Promise<Frames> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, {
        ca: c.server.caCert,
        headers: { authorization: `Bearer ${token ?? c.server.tokens.tokenOf('admin')}` },
      });
      const frames: Buffer[] = [];
      const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
      ws.on('message', (data: Buffer) => frames.push(data));
      ws.once('open', () =>
        resolve({
          ws,
          frames,
          closed,
          text: (channel) =>
            Buffer.concat(frames.filter((f) => f[0] === channel).map((f) => f.subarray(1))).toString(),
        }),
      );
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          reject(Object.assign(new Error(body), { status: res.statusCode, body: JSON.parse(body) })),
        );
      });
      ws.once('error', reject);
    });
  }

  it('v5: streams stdin and output on their channels, half-closes stdin, and ends with the exit status', async () => {
    const s = await open(base('web', 'command=echo&command=hi&stdin=true&stdout=true&stderr=true'), [
      'v5.channel.k8s.io',
    ]);
    expect(s.ws.protocol).toBe('v5.channel.k8s.io');
    s.ws.send(Buffer.from([0, ...Buffer.from('hello ')]));
    s.ws.send(Buffer.from([0, ...Buffer.from('world')]));
    s.ws.send(Buffer.from([255, 0]));
    expect(await s.closed).toBe(1000);
    // The kubelet's "streams are up" frame: empty, on the lowest writable channel.
    expect([...s.frames[0]!]).toEqual([1]);
    expect(s.text(1)).toBe('HELLO WORLD');
    expect(s.text(2)).toBe('echo hi');
    expect(JSON.parse(s.text(3))).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit code 11',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '11' }] },
    });
    expect(target.requests.at(-1)).toMatchObject({ container: 'app', command: ['echo', 'hi'], tty: false });
  });

  it('v4: no close channel (255 is ignored); resizes reach the agent with a TTY, which drops stderr', async () => {
    const s = await open(base('web', 'command=sh&stdin=1&stdout=1&stderr=1&tty=1'), ['v4.channel.k8s.io']);
    expect(s.ws.protocol).toBe('v4.channel.k8s.io');
    s.ws.send(Buffer.from([4, ...Buffer.from('{"Width":100,"Height":40}')]));
    s.ws.send(Buffer.from([255, 0]));
    s.ws.send(Buffer.from([0, ...Buffer.from('x')]));
    await waitFor('the echo', () => (s.text(1) === 'X' ? true : undefined));
    expect(target.requests.at(-1)).toMatchObject({ tty: true, stderr: false, stdin: true });
    // With a TTY there is no stderr: the command's words to it went nowhere.
    expect(s.text(2)).toBe('');
    await waitFor('the resize', () => (target.resizes.length ? true : undefined));
    expect(target.resizes.at(-1)).toEqual({ width: 100, height: 40 });
    // The client leaving ends the command's session on the node.
    const detached = target.detached;
    s.ws.close();
    await waitFor('the agent to detach', () => (target.detached > detached ? true : undefined));
  });

  it('keeps a session open past the server’s request timeout', async () => {
    const s = await open(base('web', 'command=cat&stdin=true&stdout=true'), ['v5.channel.k8s.io']);
    await new Promise((r) => setTimeout(r, 2_500));
    s.ws.send(Buffer.from([0, ...Buffer.from('still here')]));
    s.ws.send(Buffer.from([255, 0]));
    expect(await s.closed).toBe(1000);
    expect(s.text(1)).toBe('STILL HERE');
  });

  it('refuses before the upgrade with a Status, as upstream words it', async () => {
    const refusal = (name: string, query: string, protocols = ['v5.channel.k8s.io'], token?: string) =>
      open(base(name, query), protocols, token).then(
        (s) => {
          s.ws.close();
          throw new Error('upgraded');
        },
        (e: { status: number; body: { message: string; reason: string } }) => ({ ...e.body, http: e.status }),
      );
    expect(await refusal('web', 'command=true&stdout=true', ['v5.channel.k8s.io'], 'wrong')).toMatchObject({
      http: 401,
      reason: 'Unauthorized',
    });
    expect(await refusal('ghost', 'command=true&stdout=true')).toMatchObject({
      http: 404,
      message: 'pods "ghost" not found',
    });
    expect(await refusal('two', 'command=true&stdout=true')).toMatchObject({
      http: 400,
      message: 'a container name must be specified for pod two, choose one of: [a b]',
    });
    expect(await refusal('web', 'command=true&stdout=true&container=nope')).toMatchObject({
      http: 400,
      message: 'container nope is not valid for pod web',
    });
    expect(await refusal('pending', 'command=true&stdout=true')).toMatchObject({
      http: 400,
      message: 'pod pending does not have a host assigned',
    });
    expect(await refusal('web', 'command=true')).toMatchObject({
      http: 400,
      message: 'you must specify at least 1 of stdin, stdout, stderr',
    });
    expect(await refusal('halted', 'command=true&stdout=true')).toMatchObject({
      http: 400,
      message: 'unable to upgrade connection: container not found ("stopped")',
    });
    expect(await refusal('web', 'command=true&stdout=true', ['channel.k8s.io'])).toMatchObject({
      http: 400,
      reason: 'BadRequest',
    });
    const plain = await c.api('GET', `${pods}/web/exec?command=true&stdout=true`);
    expect(plain).toMatchObject({ status: 400, body: { message: 'Upgrade request required' } });
    const spdy = await c.api('POST', `${pods}/web/exec?command=true&stdout=true`, undefined, {
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
    });
    expect(spdy.status).toBe(400);
    expect(spdy.body).toMatchObject({ message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
    const v5 = await c.api('POST', `${pods}/web/exec?command=true&stdout=true`, undefined, {
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'x-stream-protocol-version': 'v5.channel.k8s.io, channel.k8s.io',
    });
    expect(v5.status).toBe(403);
    expect(v5.body).toMatchObject({
      reason: 'Forbidden',
      message:
        'unable to upgrade: unable to negotiate protocol: client supports [v5.channel.k8s.io channel.k8s.io], server accepts [v4.channel.k8s.io]',
    });
  });

  it('lists pods/exec and pods/attach in discovery as upstream does', async () => {
    const list = await c.api<{ resources: { name: string; kind: string; verbs: string[] }[] }>(
      'GET',
      '/api/v1',
    );
    expect(list.body.resources.find((r) => r.name === 'pods/exec')).toMatchObject({
      kind: 'PodExecOptions',
      verbs: ['create', 'get'],
    });
    expect(list.body.resources.find((r) => r.name === 'pods/attach')).toMatchObject({
      kind: 'PodAttachOptions',
      verbs: ['create', 'get'],
    });
  });

  it('attaches without a command: the agent is asked to attach, not to run', async () => {
    const s = await open(base('web', 'stdin=true&stdout=true', 'attach'), ['v5.channel.k8s.io']);
    await waitFor('the agent to start the attach', () => (target.requests.at(-1)?.attach ? true : undefined));
    expect(target.requests.at(-1)).toMatchObject({ attach: true, command: [], container: 'app' });
    s.ws.send(Buffer.from([255, 0]));
    expect(await s.closed).toBe(1000);
  });

  // Last: it shuts the server down.
  it('does not let an open session hold the server’s shutdown up', async () => {
    const s = await open(base('web', 'command=cat&stdin=true&stdout=true'), ['v5.channel.k8s.io']);
    closed = true;
    await c.close();
    expect(await s.closed).toBe(1006);
  });
});
