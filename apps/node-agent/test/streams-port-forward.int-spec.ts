import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { get } from 'node:http';

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { sampleSum } from '@app/metrics';

import { startStreamsCluster, type StreamsCluster } from './streams-fixture.js';

/**
 * `kubectl port-forward` end to end: kubectl's SPDY session (on the upgraded connection, or
 * tunnelled in a WebSocket by kubectl ≥ 1.31) → API server → NATS → this node's port-forward
 * target → a connection to the pod's port on the real engine.
 */
describe('kubectl port-forward through the node agent', () => {
  let s: StreamsCluster;
  const running = new Set<ChildProcess>();
  /** 3 MiB of random bytes the pod serves, and their digest. */
  let bigDigest: string;

  beforeAll(async () => {
    s = await startStreamsCluster();
    const pod = await s.createPod('web', [
      {
        name: 'httpd',
        script:
          'mkdir -p /www && echo hello from the pod > /www/index.html && ' +
          'head -c 3145728 /dev/urandom > /www/big && sha256sum /www/big && exec httpd -f -p 8080 -h /www',
      },
    ]);
    const container = async () =>
      (await s.runtime.listContainers({ podUid: pod.ref.uid, type: 'container' }))[0];
    const logged = await waitFor('the served file’s digest', async () => {
      const c = await container();
      return c && (await s.runtime.logs(c.id)).find((l) => / \/www\/big$/.test(l.line))?.line;
    });
    bigDigest = logged.split(' ')[0]!;
    // kubectl checks the phase before it forwards; the pod workers, which would set it, do not run here.
    await s.api.mergePatch('/api/v1/namespaces/default/pods/web/status', { status: { phase: 'Running' } });
    await waitFor('httpd to answer in the pod', async () => {
      const r = await s.runtime.execCapture(
        (await container())!.id,
        ['wget', '-q', '-O-', 'http://127.0.0.1:8080/'],
        5_000,
      );
      return r.output.includes('hello') ? true : undefined;
    });
  });
  afterEach(() => {
    for (const child of running) child.kill();
    running.clear();
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Starts `kubectl port-forward` and resolves with the local port it forwards from, and its output so far. */
  async function forward(minor: number, target: string, remote: number) {
    const child = s.api.spawnKubectl(minor, ['port-forward', target, `:${remote}`]);
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const local = await waitFor(`kubectl 1.${minor} to forward`, async () => {
      if (child.exitCode !== null) throw new Error(`kubectl exited (${child.exitCode}): ${stderr}`);
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> /.exec(stdout);
      return m ? Number(m[1]) : undefined;
    });
    return { local, child, exited, output: () => ({ stdout, stderr }) };
  }

  /** A counter of the API server's /metrics, over the series with these labels (0 before its first count). */
  async function counter([name, labels]: [string, Record<string, string>]): Promise<number> {
    return sampleSum(await s.api.scrape(), name, labels);
  }
  const connections = 'wake_port_forward_connections_total';
  const ended: [string, Record<string, string>] = [connections, { result: 'ended' }];
  const failed: [string, Record<string, string>] = [connections, { result: 'failed' }];

  it.each([
    [33, 'websocket'],
    [30, 'spdy'],
    [27, 'spdy'],
  ])(
    'kubectl 1.%i forwards HTTP to the pod (over %s), large bodies whole, connections side by side',
    async (minor, transport) => {
      const sessions: [string, Record<string, string>] = ['wake_port_forward_sessions_total', { transport }];
      const [sessionsBefore, endedBefore] = [await counter(sessions), await counter(ended)];
      const { local } = await forward(minor, 'pod/web', 8080);
      // kubectl ≥ 1.31 tunnels SPDY in a WebSocket; older ones upgrade to SPDY.
      expect(await counter(sessions)).toBe(sessionsBefore + 1);
      expect(await fetchText(local, '/index.html')).toBe('hello from the pod\n');
      const bodies = await Promise.all(Array.from({ length: 4 }, () => fetchBytes(local, '/big')));
      for (const body of bodies) {
        expect(body.length).toBe(3 * 1024 * 1024);
        expect(createHash('sha256').update(body).digest('hex')).toBe(bigDigest);
      }
      // Connections after those still work: each pair of streams was closed and forgotten.
      for (let i = 0; i < 5; i++) expect(await fetchText(local, '/index.html')).toBe('hello from the pod\n');
      // Each of the ten connections ended once its pod side closed, none failed.
      await waitFor('ten forwarded connections to end', async () =>
        (await counter(ended)) === endedBefore + 10 ? true : undefined,
      );
    },
  );

  it('reports a port nothing listens on as the kubelet does: on the error stream, the session lost', async () => {
    const failedBefore = await counter(failed);
    const pf = await forward(33, 'pod/web', 9999);
    // The client connection is closed without a byte.
    await expect(fetchText(pf.local, '/')).rejects.toThrow();
    await waitFor('kubectl to print the forwarding error', async () =>
      pf.output().stderr.includes('error forwarding port 9999 to pod web_default') ? true : undefined,
    );
    expect(pf.output().stderr).toMatch(
      /failed to connect to [\d.]+:9999 inside the pod: connect ECONNREFUSED/,
    );
    expect(await counter(failed)).toBe(failedBefore + 1);
    // client-go closes the whole session on an error from a pair (kubectl exits), as against a kubelet.
    expect(await pf.exited).toBe(1);
    expect(pf.output().stderr).toContain('error: lost connection to pod');
  });

  it('refuses a pod without a node, and requests that are not a port-forward upgrade, with a Status', async () => {
    const created = await s.api.api('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'nowhere' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    expect(created.status).toBe(201);
    const r = await s.api.kubectl(33, ['port-forward', 'pod/nowhere', ':80'], { timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    // kubectl checks the phase itself first; the API's own answer is the 400 below.
    const path = '/api/v1/namespaces/default/pods';
    const plain = await s.api.api('POST', `${path}/web/portforward`);
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'Upgrade request required',
    });
    const unassigned = await s.api.api('POST', `${path}/nowhere/portforward`, undefined, {
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'x-stream-protocol-version': 'portforward.k8s.io',
    });
    expect(unassigned.status).toBe(400);
    expect(unassigned.body).toMatchObject({ message: 'pod nowhere does not have a host assigned' });
    const wrong = await s.api.api('POST', `${path}/web/portforward`, undefined, {
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'x-stream-protocol-version': 'v4.channel.k8s.io',
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ reason: 'Forbidden' });
    const missing = await s.api.api('POST', `${path}/ghost/portforward`);
    expect(missing.status).toBe(404);
  });
});

function fetchBytes(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${path}`)));
  });
}

async function fetchText(port: number, path: string): Promise<string> {
  return (await fetchBytes(port, path)).toString();
}
