import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Container } from '../../api-types.js';
import { grpcProbe } from './grpc-probe.js';
import { httpGetRequest, httpProbe } from './http-probe.js';
import { resolveContainerPort } from './port.js';
import { tcpProbe } from './tcp-probe.js';

const UA = 'kube-probe/1.33';
const container: Container = {
  name: 'app',
  image: 'x',
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'admin', containerPort: 9090 },
  ],
};

function listen<S extends Server | Http2Server>(server: S): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await new Promise<number>((r) =>
    s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)),
  );
  await new Promise((r) => s.close(r));
  return port;
}

describe('httpGet probes against a real server on loopback', () => {
  let server: Server;
  let port: number;
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const get = (path: string, extra: Partial<Parameters<typeof httpGetRequest>[0]> = {}, timeoutMs = 1000) =>
    httpProbe(httpGetRequest({ port, path, ...extra }, container, '127.0.0.1', UA), timeoutMs);

  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/ok':
          return res.end('fine');
        case '/fail':
          res.statusCode = 500;
          return res.end('secret details');
        case '/here':
          res.writeHead(302, { location: '/ok' });
          return res.end();
        case '/elsewhere':
          // Same server, another host name: upstream stops there.
          res.writeHead(301, { location: `http://localhost:${port}/ok` });
          return res.end('moved');
        case '/loop':
          res.writeHead(302, { location: '/loop' });
          return res.end();
        case '/big':
          return res.end('x'.repeat(50_000));
        case '/slow':
          return; // never answers
        default:
          res.statusCode = 404;
          return res.end();
      }
    });
    port = await listen(server);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('succeeds on 200 with the body, sending the kubelet’s headers and no keep-alive', async () => {
    seen.length = 0;
    expect(await get('/ok?x=1')).toEqual({ result: 'success', output: 'fine' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/ok?x=1');
    expect(seen[0]!.headers).toMatchObject({
      'user-agent': UA,
      accept: '*/*',
      connection: 'close',
      host: `127.0.0.1:${port}`,
    });
    expect(seen[0]!.headers['accept-encoding']).toBeUndefined();
  });

  it('sends the action’s headers, a Host override, and drops Accept when it is set empty', async () => {
    seen.length = 0;
    await get('/ok', {
      httpHeaders: [
        { name: 'x-custom', value: 'a' },
        { name: 'Host', value: 'example.test' },
        { name: 'user-agent', value: 'mine' },
        { name: 'accept', value: '' },
      ],
    });
    expect(seen[0]!.headers).toMatchObject({ 'x-custom': 'a', host: 'example.test', 'user-agent': 'mine' });
    expect(seen[0]!.headers.accept).toBeUndefined();
  });

  it('fails on 500 with the status code and without the body', async () => {
    expect(await get('/fail')).toEqual({
      result: 'failure',
      output: 'HTTP probe failed with statuscode: 500',
    });
  });

  it('follows a redirect on the same host', async () => {
    seen.length = 0;
    expect(await get('/here')).toEqual({ result: 'success', output: 'fine' });
    expect(seen.map((s) => s.path)).toEqual(['/here', '/ok']);
  });

  it('does not follow a redirect to another host: a success with a warning', async () => {
    seen.length = 0;
    expect(await get('/elsewhere')).toEqual({
      result: 'warning',
      output: 'Probe terminated redirects, Response body: moved',
    });
    expect(seen.map((s) => s.path)).toEqual(['/elsewhere']);
  });

  it('gives up after ten redirects', async () => {
    seen.length = 0;
    expect(await get('/loop')).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`,
    });
    expect(seen).toHaveLength(10);
  });

  it('reads at most 10 KiB of the body', async () => {
    const outcome = await get('/big');
    expect(outcome.result).toBe('success');
    expect(outcome.output).toBe('x'.repeat(10 * 1024));
  });

  it('fails when no answer comes within the timeout', async () => {
    expect(await get('/slow', {}, 300)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });

  it('fails with the dialer’s words on a closed port', async () => {
    const closed = await closedPort();
    const outcome = await httpProbe(
      httpGetRequest({ port: closed, path: '/' }, container, '127.0.0.1', UA),
      1000,
    );
    expect(outcome).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${closed}/": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  });

  it('builds the URL from the scheme, the host or else the pod IP, and the port by number or name', () => {
    const req = httpGetRequest({ port: 'admin', path: 'healthz' }, container, '10.1.2.3', UA);
    expect(req.url.href).toBe('http://10.1.2.3:9090/healthz');
    expect(req.headers).toEqual({ 'User-Agent': [UA], Accept: ['*/*'] });
    expect(
      httpGetRequest({ port: 443, scheme: 'HTTPS', host: 'fd00::1' }, container, '10.1.2.3', UA).url.href,
    ).toBe('https://[fd00::1]/'); // 443 is the scheme's default: the URL drops it
    expect(() => httpGetRequest({ port: 80 }, container, undefined, UA)).toThrow('no IP');
  });

  it('speaks HTTPS without verifying the certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=probe-test',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' }); // prettier-ignore
      const tls = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.end('secure'),
      );
      const tlsPort = await listen(tls);
      try {
        const req = httpGetRequest({ port: tlsPort, scheme: 'HTTPS' }, container, '127.0.0.1', UA);
        expect(await httpProbe(req, 2000)).toEqual({ result: 'success', output: 'secure' });
      } finally {
        await new Promise((r) => tls.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('container ports', () => {
  it('resolves a number, a port name, or a number written as a string, and rejects the rest as upstream', () => {
    expect(resolveContainerPort(80, container)).toBe(80);
    expect(resolveContainerPort('http', container)).toBe(8080);
    expect(resolveContainerPort('8081', container)).toBe(8081);
    expect(() => resolveContainerPort('nope', container)).toThrow(
      'strconv.Atoi: parsing "nope": invalid syntax',
    );
    expect(() => resolveContainerPort(0, container)).toThrow('invalid port number: 0');
    expect(() => resolveContainerPort(70000, container)).toThrow('invalid port number: 70000');
  });
});

describe('tcpSocket probes on loopback', () => {
  it('succeeds when the port accepts a connection, and closes it', async () => {
    let connections = 0;
    const server = createTcpServer((s) => {
      connections++;
      s.on('error', () => undefined);
    });
    const port = await new Promise<number>((r) =>
      server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
    );
    try {
      expect(await tcpProbe('127.0.0.1', port, 1000)).toEqual({ result: 'success', output: '' });
      expect(connections).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('fails with the dialer’s words on a closed port', async () => {
    const port = await closedPort();
    expect(await tcpProbe('127.0.0.1', port, 1000)).toEqual({
      result: 'failure',
      output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
  });
});

describe('grpc probes against an HTTP/2 health server on loopback', () => {
  let server: Http2Server;
  let port: number;
  const requests: { path: string; service: string; userAgent: string }[] = [];

  /** grpc.health.v1: "" and "api" serve, "down" does not, anything else is unknown. */
  beforeAll(async () => {
    server = createHttp2Server();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        // HealthCheckRequest{service}: field 1, length-delimited, after the 5-byte frame prefix.
        const service = body.length > 7 ? body.subarray(7, 7 + body[6]!).toString() : '';
        requests.push({ path: String(headers[':path']), service, userAgent: String(headers['user-agent']) });
        if (service === 'slow') return;
        if (headers[':path'] !== '/grpc.health.v1.Health/Check' || service === 'unimplemented') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service grpc.health.v1.Health' }, { endStream: true }); // prettier-ignore
          return;
        }
        if (!['', 'api', 'down'].includes(service)) {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'unknown%20service' }, { endStream: true }); // prettier-ignore
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        // HealthCheckResponse{status: SERVING (1) or NOT_SERVING (2)}
        stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, service === 'down' ? 2 : 1]));
      });
    });
    port = await listen(server);
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('succeeds when the service is SERVING, asking with the kubelet’s user agent', async () => {
    requests.length = 0;
    expect(await grpcProbe('127.0.0.1', port, '', 1000, UA)).toEqual({
      result: 'success',
      output: 'service healthy',
    });
    expect(await grpcProbe('127.0.0.1', port, 'api', 1000, UA)).toEqual({
      result: 'success',
      output: 'service healthy',
    });
    expect(requests).toEqual([
      { path: '/grpc.health.v1.Health/Check', service: '', userAgent: UA },
      { path: '/grpc.health.v1.Health/Check', service: 'api', userAgent: UA },
    ]);
  });

  it('fails on any other serving status and on RPC errors, in upstream’s words', async () => {
    expect(await grpcProbe('127.0.0.1', port, 'down', 1000, UA)).toEqual({
      result: 'failure',
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(await grpcProbe('127.0.0.1', port, 'nope', 1000, UA)).toEqual({
      result: 'failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
    expect(await grpcProbe('127.0.0.1', port, 'unimplemented', 1000, UA)).toEqual({
      result: 'failure',
      output:
        'this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health',
    });
  });

  it('fails on a timeout and on a closed port', async () => {
    expect(await grpcProbe('127.0.0.1', port, 'slow', 300, UA)).toEqual({
      result: 'failure',
      output: 'timeout: health rpc did not complete within 0.3s',
    });
    const closed = await closedPort();
    const outcome = await grpcProbe('127.0.0.1', closed, '', 1000, UA);
    expect(outcome).toEqual({
      result: 'failure',
      output: `error: health rpc probe failed: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:${closed}: connect: connection refused"`,
    });
  });
});
