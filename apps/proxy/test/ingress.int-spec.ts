import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ApiClient } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { Registry } from '@app/metrics';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { setPodStatus, staticPod } from '@app/testing/static-pods.js';

import {
  type RunningControllerManager,
  startControllerManager,
} from '../../controller-manager/src/run-controller-manager.js';
import { DEFAULT_CLASS_ANNOTATION } from '../src/ingress/class-selection.js';
import { ensureIngressClass } from '../src/ingress/default-ingress-class.js';
import { type RunningIngressController, startIngressController } from '../src/ingress/index.js';
import { type Ingress, type IngressClass } from '../src/ingress/ingress-types.js';

/** A node without an agent: the pods bound to it have the status this test writes. */
const STATIC_NODE = 'static-node';
const CONTROLLER = 'wake.io/ingress';
/** This run's loopback /24 (127.x.y.0), so pods' addresses do not meet another suite's. */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}`;

interface Echo {
  pod: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The ingress controller through the real API server, log and bus, with the real EndpointSlice
 * controller: pods on a node without an agent whose status (IP, readiness) the test writes,
 * each IP a loopback address where the test's own HTTP server answers as that pod; requests
 * with node:http to the controller's loopback listener; status read by the real kubectl 1.33.
 */
describe('ingress controller through the real API server and EndpointSlice controller', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  let ic: RunningIngressController | undefined;
  const registry = new Registry();
  const backends: Server[] = [];
  let podPort = 0;
  const ns = 'ing';

  /** An HTTP server on `ip` that answers as pod `name`, echoing what it was sent. */
  const backend = (ip: string, name: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const echo: Echo = {
            pod: name,
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers as Record<string, string>,
            body: Buffer.concat(chunks).toString(),
          };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo));
        });
      });
      // An upgrade is accepted and the bytes that follow come back with the pod's name.
      s.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
        socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
        socket.on('end', () => socket.end());
        socket.on('error', () => socket.destroy());
      });
      s.once('error', reject);
      s.listen(port, ip, () => {
        backends.push(s);
        resolve(s);
      });
    });

  /** A pod on the static node at `ip`, Ready or not, serving `podPort`. */
  const pod = (name: string, ip: string, ready: boolean, labels: Record<string, string>) =>
    staticPod(cluster, ns, {
      name,
      node: STATIC_NODE,
      ip,
      ready,
      labels,
      ports: [{ name: 'http', containerPort: podPort }],
    });
  const setReady = (name: string, ip: string, ready: boolean) => setPodStatus(cluster, ns, name, ip, ready);
  const service = (name: string, app: string, ports = [{ name: 'http', port: 80, targetPort: 'http' }]) =>
    cluster.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name },
      spec: { selector: { app }, ports },
    });
  const ingressClass = (name: string, controller: string, isDefault = false) =>
    cluster.ok('POST', '/apis/networking.k8s.io/v1/ingressclasses', {
      metadata: {
        name,
        annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : undefined,
      },
      spec: { controller },
    });
  const backendRef = (name: string, port: number | string = 80) => ({
    service: { name, port: typeof port === 'number' ? { number: port } : { name: port } },
  });
  const ingress = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) =>
    cluster.ok('POST', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, {
      metadata: { name, annotations },
      spec,
    });
  const rule = (host: string | undefined, paths: [string, string, string, (number | string)?][]) => ({
    host,
    http: {
      paths: paths.map(([pathType, path, svc, port]) => ({
        pathType,
        path,
        backend: backendRef(svc, port ?? 80),
      })),
    },
  });
  const addressOf = async (name: string) =>
    (
      (await cluster.ok<Ingress>('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}`))
        .status?.loadBalancer?.ingress ?? []
    )
      .map((i) => i.ip ?? i.hostname)
      .join(',');

  /** One request to the controller; a fresh connection each, so no keep-alive socket outlives the test. */
  const send = (
    host: string,
    path: string,
    o: { method?: string; body?: string; url?: string; ca?: string } = {},
  ) =>
    new Promise<{ status: number; text: string; echo?: Echo }>((resolve, reject) => {
      const u = new URL(o.url ?? ic!.url);
      const req = (u.protocol === 'https:' ? httpsRequest : request)(
        {
          host: u.hostname,
          port: u.port,
          path,
          method: o.method ?? 'GET',
          headers: { host },
          agent: false,
          // HTTPS: the server name is the Host's, verified against the test's own certificate.
          servername: host,
          ca: o.ca,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const json = res.headers['content-type'] === 'application/json';
            resolve({
              status: res.statusCode ?? 0,
              text,
              echo: json ? (JSON.parse(text) as Echo) : undefined,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(o.body);
    });
  /** Polls until a request to host+path is answered as `want` says (routes and endpoints propagate). */
  const until = (
    what: string,
    host: string,
    path: string,
    want: (r: Awaited<ReturnType<typeof send>>) => boolean,
  ) =>
    waitFor(
      what,
      async () => {
        const r = await send(host, path);
        return want(r) ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  const podsHit = async (host: string, path: string, n: number) => {
    const hits: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await send(host, path);
      expect(r.status).toBe(200);
      hits[r.echo!.pod] = (hits[r.echo!.pod] ?? 0) + 1;
    }
    return hits;
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    const connection = cluster.connection;
    // One port every pod serves, each on its own loopback address.
    const first = await backend(`${NET}.2`, 'web-1', 0);
    podPort = (first.address() as { port: number }).port;
    await Promise.all([
      backend(`${NET}.3`, 'web-2', podPort),
      backend(`${NET}.4`, 'web-3', podPort),
      backend(`${NET}.10`, 'api-1', podPort),
      backend(`${NET}.20`, 'other-1', podPort),
      backend(`${NET}.30`, 'late-1', podPort),
      backend(`${NET}.40`, 'flaky-up', podPort),
    ]);
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await cluster.ok('POST', '/api/v1/nodes', {
      metadata: { name: STATIC_NODE },
      spec: { unschedulable: true },
    });
    await pod('web-1', `${NET}.2`, true, { app: 'web' });
    await pod('web-2', `${NET}.3`, true, { app: 'web' });
    await pod('web-3', `${NET}.4`, true, { app: 'web' });
    await pod('api-1', `${NET}.10`, true, { app: 'api' });
    await pod('other-1', `${NET}.20`, true, { app: 'other' });
    await pod('idle-1', `${NET}.50`, false, { app: 'idle' });
    await service('web', 'web');
    await service('api', 'api', [{ name: 'grpc', port: 9000, targetPort: 'http' }]);
    await service('other', 'other');
    await service('idle', 'idle');
    await ingressClass('wake', CONTROLLER);
    await ingressClass('elsewhere', 'example.com/other-controller');
    cm = await startControllerManager({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['endpointslice'],
      backoffMs: [50, 1000],
      endpointSliceChangeDelayMs: 50,
    });
    ic = await startIngressController({
      // As the proxy's user, which runs it: the suite proves its roles are enough.
      connection: cluster.componentConnection('proxy'),
      natsUrl: cluster.natsUrl,
      listen: { host: '127.0.0.1', port: 0 },
      tlsListen: { host: '127.0.0.1', port: 0 },
      secretResyncMs: 300,
      statusAddress: '127.0.0.1',
      backoffMs: [50, 1000],
      connectTimeoutMs: 2000,
      registry,
    });
  });
  afterAll(async () => {
    await Promise.allSettled([cm?.close(), ic?.close()]);
    await Promise.allSettled(backends.map((s) => new Promise((r) => s.close(r))));
    await cluster?.close();
  });

  it('routes by host and path: exact and wildcard hosts, Prefix by path element, the longest path first; kubectl shows ADDRESS', async () => {
    await ingress('routes', {
      ingressClassName: 'wake',
      rules: [
        rule('shop.example.com', [
          ['Prefix', '/', 'web'],
          ['Prefix', '/api', 'api', 'grpc'],
          ['Exact', '/about', 'other'],
        ]),
        rule('*.wild.example.com', [['Prefix', '/', 'api', 9000]]),
      ],
    });
    await until('the routes are served', 'shop.example.com', '/api/v1', (r) => r.echo?.pod === 'api-1');
    expect((await send('shop.example.com', '/api')).echo?.pod).toBe('api-1');
    expect((await send('shop.example.com', '/apis')).echo?.pod).toMatch(/^web-/);
    expect((await send('shop.example.com', '/about')).echo?.pod).toBe('other-1');
    expect((await send('shop.example.com', '/about/team')).echo?.pod).toMatch(/^web-/);
    expect((await send('SHOP.example.com:8080', '/x?q=1')).echo).toMatchObject({ url: '/x?q=1' });
    expect((await send('a.wild.example.com', '/')).echo?.pod).toBe('api-1');
    expect((await send('b.a.wild.example.com', '/')).status).toBe(404);
    expect((await send('wild.example.com', '/')).status).toBe(404);
    expect((await send('unknown.example.com', '/')).text).toContain('404');

    await waitFor(
      'the ADDRESS is reported',
      async () => ((await addressOf('routes')) === '127.0.0.1' ? true : undefined),
      {
        timeoutMs: 15_000,
      },
    );
    const r = await cluster.kubectl(33, ['-n', ns, 'get', 'ingress', 'routes', '--no-headers'], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    // NAME CLASS HOSTS ADDRESS PORTS AGE
    const cols = r.stdout.trim().split(/\s+/);
    expect(cols.slice(0, 5)).toEqual([
      'routes',
      'wake',
      'shop.example.com,*.wild.example.com',
      '127.0.0.1',
      '80',
    ]);
  });

  it('Exact beats Prefix on the same path; a Prefix does not match a longer element', async () => {
    await ingress('exactness', {
      ingressClassName: 'wake',
      rules: [
        rule('exact.example.com', [
          ['Prefix', '/foo', 'web'],
          ['Exact', '/foo', 'other'],
        ]),
      ],
    });
    await until('exactness is served', 'exact.example.com', '/foo', (r) => r.status === 200);
    expect((await send('exact.example.com', '/foo')).echo?.pod).toBe('other-1');
    expect((await send('exact.example.com', '/foo/')).echo?.pod).toMatch(/^web-/);
    expect((await send('exact.example.com', '/foo/bar')).echo?.pod).toMatch(/^web-/);
    expect((await send('exact.example.com', '/foobar')).status).toBe(404);
  });

  it('forwards method, body and X-Forwarded-* headers, Host unchanged', async () => {
    const body = 'x'.repeat(200_000);
    const r = await send('shop.example.com', '/upload', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(r.echo).toMatchObject({ pod: expect.stringMatching(/^web-/), method: 'POST', url: '/upload' });
    expect(r.echo?.body).toBe(body);
    expect(r.echo?.headers).toMatchObject({
      host: 'shop.example.com',
      'x-forwarded-for': '127.0.0.1',
      'x-real-ip': '127.0.0.1',
      'x-forwarded-host': 'shop.example.com',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': String(new URL(ic!.url).port),
    });
  });

  it('passes an upgraded connection (WebSocket-style) through both ways; an unrouted upgrade gets 404', async () => {
    const u = new URL(ic!.url);
    const talk = (host: string, message: string) =>
      new Promise<string>((resolve, reject) => {
        const c = connect(Number(u.port), u.hostname);
        let got = '';
        c.on('error', reject);
        c.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('\r\n\r\n') && got.startsWith('HTTP/1.1 101') && !got.includes(':' + message))
            c.write(message);
          if (got.includes(`:${message}`) || (got.includes('\r\n\r\n') && !got.startsWith('HTTP/1.1 101')))
            c.end();
        });
        c.on('close', () => resolve(got));
        c.write(`GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`);
      });
    const answer = await talk('shop.example.com', 'ping');
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer).toMatch(/\r\n\r\nweb-\d:ping$/);
    expect(await talk('unrouted.example.com', 'ping')).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('spreads requests over the ready endpoints round robin', async () => {
    const before = await answered('200');
    const hits = await podsHit('shop.example.com', '/', 30);
    expect(hits).toEqual({ 'web-1': 10, 'web-2': 10, 'web-3': 10 });
    expect((await answered('200')) - before).toBe(30);
  });

  it('answers 503 for a Service without ready endpoints or without such a Service', async () => {
    await ingress('unavailable', {
      ingressClassName: 'wake',
      rules: [
        rule('down.example.com', [
          ['Prefix', '/idle', 'idle'],
          ['Prefix', '/missing', 'no-such-service'],
          ['Prefix', '/badport', 'web', 81],
        ]),
      ],
    });
    await until('down.example.com is served', 'down.example.com', '/idle', (r) => r.status === 503);
    const before = await answered('503');
    expect((await send('down.example.com', '/missing')).status).toBe(503);
    expect((await send('down.example.com', '/badport')).status).toBe(503);
    expect((await answered('503')) - before).toBe(2);
    // The pod turns Ready: the same route answers.
    await setReady('idle-1', `${NET}.50`, true);
    await backend(`${NET}.50`, 'idle-1', podPort);
    await until(
      'the idle pod answers once Ready',
      'down.example.com',
      '/idle',
      (r) => r.echo?.pod === 'idle-1',
    );
  });

  it('applies endpoint changes: a not-ready pod gets no traffic, a new pod gets its share', async () => {
    await setReady('web-2', `${NET}.3`, false);
    await waitFor(
      'web-2 is out of rotation',
      async () => {
        const hits = await podsHit('shop.example.com', '/', 6);
        return hits['web-2'] === undefined ? hits : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(await podsHit('shop.example.com', '/', 12)).toEqual({ 'web-1': 6, 'web-3': 6 });
    await pod('late-1', `${NET}.30`, true, { app: 'web' });
    await until('the new pod is in rotation', 'shop.example.com', '/', (r) => r.echo?.pod === 'late-1');
    const hits = await podsHit('shop.example.com', '/', 30);
    expect(Object.keys(hits).sort()).toEqual(['late-1', 'web-1', 'web-3']);
    await setReady('web-2', `${NET}.3`, true);
  });

  it('tries another endpoint when a connection is refused', async () => {
    // Ready, but nothing listens at its address: every request that picks it goes on to the next.
    await pod('flaky-down', `${NET}.41`, true, { app: 'flaky' });
    await pod('flaky-up', `${NET}.40`, true, { app: 'flaky' });
    await service('flaky', 'flaky');
    await ingress('flaky', {
      ingressClassName: 'wake',
      rules: [rule('flaky.example.com', [['Prefix', '/', 'flaky']])],
    });
    await waitFor(
      'both flaky endpoints are listed',
      async () => {
        const slices = await cluster.ok<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
          'GET',
          `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dflaky`,
        );
        const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
        return ready.length === 2 ? true : undefined;
      },
      { timeoutMs: 15_000 },
    );
    await until('flaky is served', 'flaky.example.com', '/', (r) => r.status === 200);
    const before = await failedConnects();
    const hits = await podsHit('flaky.example.com', '/', 10);
    expect(hits).toEqual({ 'flaky-up': 10 });
    expect((await failedConnects()) - before).toBeGreaterThanOrEqual(5);
    // A request with a body is retried whole: it is only read once a connection stands.
    const beforePosts = await failedConnects();
    for (let i = 0; i < 4; i++) {
      const r = await send('flaky.example.com', '/upload', { method: 'POST', body: `payload-${i}` });
      expect(r.echo).toMatchObject({ pod: 'flaky-up', method: 'POST', body: `payload-${i}` });
    }
    expect((await failedConnects()) - beforePosts).toBeGreaterThanOrEqual(2);

    // No endpoint answers at all: 502 after the tries.
    await pod('dead-1', `${NET}.42`, true, { app: 'dead' });
    await service('dead', 'dead');
    await ingress('dead', {
      ingressClassName: 'wake',
      rules: [rule('dead.example.com', [['Prefix', '/', 'dead']])],
    });
    const dead = await until(
      'dead is routed',
      'dead.example.com',
      '/',
      (r) => r.status !== 404 && r.status !== 503,
    );
    expect(dead.status).toBe(502);
  });

  it('serves only Ingresses of its classes: another class is left alone; a class-less one once our class is the default', async () => {
    await ingress('theirs', {
      ingressClassName: 'elsewhere',
      rules: [rule('theirs.example.com', [['Prefix', '/', 'web']])],
    });
    await ingress('classless', { rules: [rule('classless.example.com', [['Prefix', '/', 'web']])] });
    await ingress(
      'legacy',
      { rules: [rule('legacy.example.com', [['Prefix', '/', 'other']])] },
      {
        'kubernetes.io/ingress.class': 'wake',
      },
    );
    await until(
      'the annotated Ingress is served',
      'legacy.example.com',
      '/',
      (r) => r.echo?.pod === 'other-1',
    );
    expect((await send('theirs.example.com', '/')).status).toBe(404);
    expect((await send('classless.example.com', '/')).status).toBe(404);
    await waitFor('legacy has an ADDRESS', async () => ((await addressOf('legacy')) ? true : undefined), {
      timeoutMs: 15_000,
    });
    expect(await addressOf('theirs')).toBe('');
    expect(await addressOf('classless')).toBe('');

    await cluster.mergePatch('/apis/networking.k8s.io/v1/ingressclasses/wake', {
      metadata: { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
    });
    await until('the class-less Ingress is served', 'classless.example.com', '/', (r) => r.status === 200);
    await waitFor(
      'classless has an ADDRESS',
      async () => ((await addressOf('classless')) === '127.0.0.1' ? true : undefined),
      {
        timeoutMs: 15_000,
      },
    );
    expect((await send('theirs.example.com', '/')).status).toBe(404);

    // Moved to the other class: no longer served, and its ADDRESS goes.
    await cluster.mergePatch(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/classless`, {
      spec: { ingressClassName: 'elsewhere' },
    });
    await until(
      'the moved Ingress is no longer served',
      'classless.example.com',
      '/',
      (r) => r.status === 404,
    );
    await waitFor(
      'classless lost its ADDRESS',
      async () => ((await addressOf('classless')) === '' ? true : undefined),
      {
        timeoutMs: 15_000,
      },
    );
    await cluster.mergePatch('/apis/networking.k8s.io/v1/ingressclasses/wake', {
      metadata: { annotations: { 'ingressclass.kubernetes.io/is-default-class': null } },
    });
  });

  it('a second controller adds its address beside the first and takes it off when it closes', async () => {
    const second = await startIngressController({
      connection: cluster.componentConnection('proxy'),
      natsUrl: cluster.natsUrl,
      listen: { host: '127.0.0.1', port: 0 },
      statusAddress: 'node-b.example.com',
      backoffMs: [50, 1000],
    });
    try {
      await waitFor(
        'both addresses',
        async () => ((await addressOf('routes')) === '127.0.0.1,node-b.example.com' ? true : undefined),
        { timeoutMs: 15_000 },
      );
      expect((await send('shop.example.com', '/api', { url: second.url })).echo?.pod).toBe('api-1');
    } finally {
      await second.close();
    }
    expect(await addressOf('routes')).toBe('127.0.0.1');
  });

  it('serves spec.tls hosts over HTTPS with the certificate of their Secret, read again until it exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ingress-tls-'));
    try {
      const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=secure.example.com',
        '-addext',
        'subjectAltName=DNS:secure.example.com',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      const ca = await readFile(cert, 'utf8');
      const tlsUrl = ic!.tlsUrl!;
      // The Ingress first: until its Secret exists the host has no certificate.
      await ingress('secure', {
        ingressClassName: 'wake',
        tls: [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }],
        rules: [rule('secure.example.com', [['Prefix', '/', 'web']])],
      });
      await until('the Ingress is routed over HTTP', 'secure.example.com', '/', (r) => r.status === 200);
      await expect(send('secure.example.com', '/', { url: tlsUrl, ca })).rejects.toThrow();
      await cluster.ok('POST', `/api/v1/namespaces/${ns}/secrets`, {
        metadata: { name: 'secure-tls' },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from(ca).toString('base64'),
          'tls.key': (await readFile(key)).toString('base64'),
        },
      });
      const r = await waitFor(
        'the certificate is served',
        () => send('secure.example.com', '/p', { url: tlsUrl, ca }).catch(() => undefined),
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(r.status).toBe(200);
      expect(r.echo).toMatchObject({ pod: expect.stringMatching(/^web-|^late-/), url: '/p' });
      expect(r.echo?.headers['x-forwarded-proto']).toBe('https');
      // A name with no certificate fails the handshake.
      await expect(send('unknown.example.com', '/', { url: tlsUrl, ca })).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sends unmatched requests to the default backend once an Ingress has one (404 before)', async () => {
    expect((await send('nowhere.example.com', '/x')).status).toBe(404);
    await ingress('fallback', { ingressClassName: 'wake', defaultBackend: backendRef('other') });
    await until('the default backend answers', 'nowhere.example.com', '/x', (r) => r.echo?.pod === 'other-1');
    // Hosts with rules keep them; their unmatched paths fall back as well.
    expect((await send('shop.example.com', '/api')).echo?.pod).toBe('api-1');
    expect((await send('exact.example.com', '/foobar')).echo?.pod).toBe('other-1');
  });

  it('ensureIngressClass creates a class for a controller that has none (the default unless another class is) and leaves existing ones alone', async () => {
    const classes = '/apis/networking.k8s.io/v1/ingressclasses';
    const isDefault = async (name: string) =>
      (await cluster.ok<IngressClass>('GET', `${classes}/${name}`)).metadata.annotations?.[
        DEFAULT_CLASS_ANNOTATION
      ];
    const setDefault = (name: string, value: 'true' | null) =>
      cluster.mergePatch(`${classes}/${name}`, {
        metadata: { annotations: { [DEFAULT_CLASS_ANNOTATION]: value } },
      });
    const api = new ApiClient(cluster.componentConnection('proxy'), { userAgent: 'ingress-class-test' });
    try {
      // Another class is the default: the new one is not.
      await setDefault('elsewhere', 'true');
      await ensureIngressClass(api, 'ensured-a', 'example.com/a');
      expect(await cluster.ok<IngressClass>('GET', `${classes}/ensured-a`)).toMatchObject({
        spec: { controller: 'example.com/a' },
      });
      expect(await isDefault('ensured-a')).toBeUndefined();
      // A class already names the controller: nothing is created.
      await ensureIngressClass(api, 'ensured-a2', 'example.com/a');
      expect((await cluster.api('GET', `${classes}/ensured-a2`)).status).toBe(404);
      // No default class: the new one is; two controllers racing to create it both succeed.
      await setDefault('elsewhere', null);
      await Promise.all([
        ensureIngressClass(api, 'ensured-b', 'example.com/b'),
        ensureIngressClass(api, 'ensured-b', 'example.com/b'),
      ]);
      expect(await isDefault('ensured-b')).toBe('true');
    } finally {
      await Promise.allSettled([
        cluster.api('DELETE', `${classes}/ensured-a`),
        cluster.api('DELETE', `${classes}/ensured-b`),
        setDefault('elsewhere', null),
      ]);
      await api.close();
    }
  });

  /** wake_ingress_requests_total for one status code. */
  const answered = async (status: string) =>
    (await registry.getSingleMetric('wake_ingress_requests_total')?.get())?.values.find(
      (v) => v.labels.status === status,
    )?.value ?? 0;
  const failedConnects = async () =>
    (await registry.getSingleMetric('wake_ingress_upstream_connect_failures_total')?.get())?.values[0]
      ?.value ?? 0;
});
