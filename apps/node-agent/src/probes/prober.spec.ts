import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Container, type Pod } from '../api-types.js';
import { type ExecResult } from '../runtime/index.js';
import { Prober, type ProbeTarget } from './prober.js';

/**
 * The prober's verdicts and Event messages, over real handlers against loopback servers (exec
 * over a fixed runner: the engine's exec is tested with Docker).
 */
describe('Prober', () => {
  let server: Server;
  let port: number;
  let closed: number;
  const runs: string[][] = [];
  const prober = new Prober(
    {
      async execCapture(_id: string, command: string[]): Promise<ExecResult> {
        runs.push(command);
        if (command[0] === 'broken') throw new Error('container is not running');
        return {
          exitCode: command[0] === 'true' ? 0 : 1,
          output: 'cat: /tmp/healthy: No such file\n',
          timedOut: false,
        };
      },
    },
    'kube-probe/1.33',
  );
  const container: Container = { name: 'app', image: 'x', ports: [{ name: 'web', containerPort: 1 }] };
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [container] },
  };
  const target = (): ProbeTarget => ({ pod, container, containerId: 'c1', podIP: '127.0.0.1' });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `http://localhost:${port}/` });
        return res.end('gone');
      }
      res.statusCode = req.url === '/ok' ? 200 : 500;
      res.end();
    });
    port = await new Promise((r) =>
      server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
    );
    const s = createTcpServer();
    closed = await new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
    await new Promise((r) => s.close(r));
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('words a failed httpGet as the kubelet’s Unhealthy event', async () => {
    expect(await prober.probe('Liveness', { httpGet: { port, path: '/bad' } }, target(), 1000)).toEqual({
      result: 'Failure',
      output: 'HTTP probe failed with statuscode: 500',
      errored: false,
      event: {
        reason: 'Unhealthy',
        message: 'Liveness probe failed: HTTP probe failed with statuscode: 500',
      },
    });
    expect(await prober.probe('Liveness', { httpGet: { port, path: '/ok' } }, target(), 1000)).toEqual({
      result: 'Success',
      output: '',
      errored: false,
    });
  });

  it('a redirect to another host succeeds with a ProbeWarning event', async () => {
    expect(await prober.probe('Readiness', { httpGet: { port, path: '/moved' } }, target(), 1000)).toEqual({
      result: 'Success',
      output: 'Probe terminated redirects, Response body: gone',
      errored: false,
      event: {
        reason: 'ProbeWarning',
        message: 'Readiness probe warning: Probe terminated redirects, Response body: gone',
      },
    });
  });

  it('words a refused tcpSocket probe as upstream, dialing the pod IP', async () => {
    const verdict = await prober.probe('Readiness', { tcpSocket: { port: closed } }, target(), 1000);
    expect(verdict.event).toEqual({
      reason: 'Unhealthy',
      message: `Readiness probe failed: dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  });

  it('passes exec output through and fails on a non-zero exit', async () => {
    runs.length = 0;
    const verdict = await prober.probe(
      'Liveness',
      { exec: { command: ['cat', '/tmp/healthy'] } },
      target(),
      1000,
    );
    expect(runs).toEqual([['cat', '/tmp/healthy']]);
    expect(verdict.event?.message).toBe('Liveness probe failed: cat: /tmp/healthy: No such file\n');
    expect((await prober.probe('Liveness', { exec: { command: ['true'] } }, target(), 1000)).result).toBe(
      'Success',
    );
  });

  it('retries a handler that cannot run three times, then reports the probe as errored', async () => {
    runs.length = 0;
    const verdict = await prober.probe('Startup', { exec: { command: ['broken'] } }, target(), 1000);
    expect(runs).toHaveLength(3);
    expect(verdict).toMatchObject({ errored: true, result: 'Failure' });
    expect(verdict.event?.message).toBe(
      'Startup probe errored and resulted in unknown state: container is not running',
    );
    const named = await prober.probe('Liveness', { tcpSocket: { port: 'nope' } }, target(), 1000);
    expect(named.event?.message).toBe(
      'Liveness probe errored and resulted in unknown state: strconv.Atoi: parsing "nope": invalid syntax',
    );
    const none = await prober.probe('Liveness', {}, target(), 1000);
    expect(none.event?.message).toBe(
      'Liveness probe errored and resulted in unknown state: missing probe handler for web_default(uid-1):app',
    );
  });
});
