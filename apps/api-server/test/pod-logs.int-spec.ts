import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';

import { type LogRequest, type LogSink, type LogWriter, serveLogs, StreamRefused } from '@app/bus';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/** Plays a node agent's log endpoint: three lines, or a line every 50 ms while following. */
class TestLogSource {
  readonly requests: LogRequest[] = [];
  cancelled = 0;

  async open(r: LogRequest): Promise<LogWriter> {
    if (r.container !== 'app') throw new StreamRefused(404, `container ${r.container} not found`);
    this.requests.push(r);
    return (sink) => this.stream(r, sink);
  }

  private async stream(r: LogRequest, sink: LogSink): Promise<void> {
    if (!r.follow) {
      for (let i = 1; i <= 3; i++) sink.write(`line ${i} of ${r.pod}\n`);
      return;
    }
    for (let i = 1; !sink.signal.aborted && i <= 2_000; i++) {
      sink.write(`follow ${i}\n`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (sink.signal.aborted) this.cancelled++;
  }
}

describe('pods/log over NATS request/reply', () => {
  let c: ApiCluster;
  let nc: NatsConnection;
  const source = new TestLogSource();
  const pods = '/api/v1/namespaces/default/pods';

  beforeAll(async () => {
    c = await startApiCluster();
    nc = await natsConnect({ servers: c.natsUrl });
    serveLogs(nc, 'node-1', source);
    const pod = (name: string, nodeName?: string) => ({
      metadata: { name },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'app', image: 'busybox:1.36' }] },
    });
    for (const [name, node] of [
      ['web', 'node-1'],
      ['pending', undefined],
      ['lost', 'node-without-agent'],
    ] as const)
      expect((await c.api('POST', pods, pod(name, node))).status).toBe(201);
  });
  afterAll(async () => {
    await nc?.close();
    await c?.close();
  });

  it('kubectl logs prints what the node agent sent, with the options passed through', async () => {
    const r = await c.kubectl(33, ['logs', 'web', '--tail=3', '--timestamps']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('line 1 of web\nline 2 of web\nline 3 of web\n');
    expect(source.requests.at(-1)).toMatchObject({
      namespace: 'default',
      pod: 'web',
      container: 'app',
      tailLines: 3,
      timestamps: true,
      follow: false,
    });
  });

  it('kubectl logs --since-time passes the time on (RFC 3339, as kubectl sends it)', async () => {
    const r = await c.kubectl(33, ['logs', 'web', '--since-time=2026-01-02T03:04:05Z']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('line 1 of web\nline 2 of web\nline 3 of web\n');
    expect(source.requests.at(-1)).toMatchObject({ pod: 'web', sinceTime: '2026-01-02T03:04:05Z' });
    expect(source.requests.at(-1)?.sinceSeconds).toBeUndefined();
  });

  it('kubectl logs -f streams until the client goes away, and the node stops then', async () => {
    const follow = c.spawnKubectl(33, ['logs', '-f', 'web']);
    let out = '';
    follow.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('a few followed lines', () => (out.includes('follow 3\n') ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(out.startsWith('follow 1\nfollow 2\nfollow 3\n')).toBe(true);
    follow.kill();
    await waitFor('the node agent to see the cancel', () => (source.cancelled >= 1 ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  it('answers unscheduled pods, unknown containers and unreachable nodes with a Status', async () => {
    const pending = await c.api('GET', `${pods}/pending/log`);
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({
      status: 'Failure',
      message: 'pod pending does not have a host assigned',
    });
    const container = await c.api('GET', `${pods}/web/log?container=nope`);
    expect(container.status).toBe(400);
    expect(container.body).toMatchObject({ message: 'container nope is not valid for pod web' });
    const lost = await c.api('GET', `${pods}/lost/log`);
    expect(lost.status).toBe(503);
    expect((lost.body as { message: string }).message).toContain(
      'the node agent of node node-without-agent did not answer',
    );
  });
});
