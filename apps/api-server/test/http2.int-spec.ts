import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
} from 'node:http2';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { sampleSum } from '@app/metrics';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

interface H2Response {
  headers: IncomingHttpHeaders;
  text: string;
  stream: ClientHttp2Stream;
}

/** One request on an HTTP/2 session; the whole answer. A body sent `unfinished` never ends. */
function request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: string,
  o: { unfinished?: boolean } = {},
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let responseHeaders: IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ headers: responseHeaders, text, stream }));
    stream.on('error', reject);
    if (o.unfinished) stream.write(body);
    else stream.end(body);
  });
}

const BODY_LIMIT = 64 * 1024;
const REQUEST_TIMEOUT_MS = 2_000;

describe('HTTP/2, as kube-apiserver serves it', () => {
  let c: ApiCluster;
  let session: ClientHttp2Session;
  const ns = 'h2';
  const auth = () => ({ authorization: `Bearer ${c.connection.token}` });
  /** The head of a ConfigMap create in the test's namespace, as the admin. */
  const createHeaders = (contentType = 'application/json') => ({
    ':method': 'POST',
    ':path': `/api/v1/namespaces/${ns}/configmaps`,
    'content-type': contentType,
    ...auth(),
  });
  const metric = async (name: string, labels: Record<string, string>): Promise<number> =>
    sampleSum(await c.scrape(), name, labels);

  beforeAll(async () => {
    c = await startApiCluster({
      controllers: [],
      bodyLimit: BODY_LIMIT,
      headersTimeoutMs: 1_000,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    await c.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    session = connect(c.server.url, { ca: c.server.caCert });
    await new Promise<void>((resolve, reject) =>
      session.once('connect', () => resolve()).once('error', reject),
    );
  });
  afterAll(async () => {
    session?.close();
    await c?.close();
  });

  it.each([33, 29])('kubectl 1.%i negotiates HTTP/2 and works over it', async (minor) => {
    // Go's HTTP/2 transport logs its frames with this switch: it speaks only on an h2 connection.
    const r = await c.kubectl(minor, ['get', 'namespaces', ns, '-o', 'name'], {
      env: { GODEBUG: 'http2debug=1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`namespace/${ns}`);
    expect(r.stderr).toMatch(/http2: Transport .*(encoding header|received HEADERS)/);
  });

  it('offers h2 by ALPN and still serves HTTP/1.1 clients', async () => {
    expect(session.alpnProtocol).toBe('h2');
    // The harness's own client is Node's HTTP/1.1 one.
    const version = await c.api<{ major: string }>('GET', '/version');
    expect(version.status).toBe(200);
    expect(version.body.major).toBe('1');
  });

  it('carries a watch and the writes it sees on one session, the watch framed by HTTP/2 alone', async () => {
    const watchers = () =>
      metric('apiserver_longrunning_requests', { resource: 'configmaps', scope: 'namespace' });
    const before = await watchers();
    const watch = session.request({
      ':path': `/api/v1/namespaces/${ns}/configmaps?watch=true`,
      ...auth(),
    });
    const lines: string[] = [];
    let buffered = '';
    let watchHeaders: IncomingHttpHeaders = {};
    watch.setEncoding('utf8');
    watch.on('response', (h) => (watchHeaders = h));
    watch.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
    // The head comes at once, before any event: clients count the watch as started on it.
    await waitFor('the watch head', () => watchHeaders[':status'] || undefined, { timeoutMs: 10_000 });
    expect(watchHeaders[':status']).toBe(200);
    expect(watchHeaders['transfer-encoding']).toBeUndefined();
    expect(watchHeaders['content-type']).toBe('application/json');
    await waitFor('the watch counted', async () => ((await watchers()) === before + 1 ? true : undefined), {
      timeoutMs: 10_000,
    });

    const created = await request(
      session,
      createHeaders(),
      JSON.stringify({ metadata: { name: 'over-h2' }, data: { a: '1' } }),
    );
    expect(created.headers[':status']).toBe(201);
    await waitFor('the ADDED event', () => lines[0], { timeoutMs: 10_000 });
    const event = JSON.parse(lines[0]) as { type: string; object: { metadata: { name: string } } };
    expect(event.type).toBe('ADDED');
    expect(event.object.metadata.name).toBe('over-h2');

    // A client that resets its stream ends the watch on the server, not only on its side.
    watch.close(constants.NGHTTP2_CANCEL);
    await waitFor('the watch ended', async () => ((await watchers()) === before ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(session.closed).toBe(false);
  });

  it('breaks off (resets), not ends, a watch stream whose timeout comes in the middle of its initial objects', async () => {
    const watchers = () =>
      metric('apiserver_longrunning_requests', { resource: 'configmaps', scope: 'namespace' });
    // Far more than an HTTP/2 stream's flow-control window (64 KiB): the server waits for the
    // reader. Each under this cluster's body limit.
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 20; i++)
      await c.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        metadata: { name: `h2-initial-${i}`, labels: { h2Initial: 'yes' } },
        data: { big },
      });
    const before = await watchers();
    const watch = session.request({
      ':path': `/api/v1/namespaces/${ns}/configmaps?watch=true&labelSelector=h2Initial%3Dyes&timeoutSeconds=2`,
      ...auth(),
    });
    watch.pause(); // a client that stops reading: its window fills, and the server waits
    // Listened to from the start: a reset comes as an error and a close while nothing reads.
    let ended = false;
    const closed = new Promise<void>((done) => watch.on('close', done));
    watch.on('end', () => (ended = true));
    watch.on('error', () => {});
    await waitFor('the watch counted', async () => ((await watchers()) === before + 1 ? true : undefined), {
      timeoutMs: 10_000,
    });
    await waitFor('the watch to end', async () => ((await watchers()) === before ? true : undefined), {
      timeoutMs: 30_000,
    });
    watch.on('data', () => {});
    watch.resume();
    await closed;
    // Not in resourceVersion order: a clean end would let the client resume past objects it
    // never got. A reset is an error the client cannot take for the end of the list.
    expect(ended).toBe(false);
    expect(watch.rstCode).not.toBe(constants.NGHTTP2_NO_ERROR);
    expect(session.closed).toBe(false);
  });

  it('answers many requests in flight on one session at once', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    const answers = await Promise.all(
      names.map((name) => request(session, createHeaders(), JSON.stringify({ metadata: { name } }))),
    );
    expect(answers.map((a) => a.headers[':status'])).toEqual(names.map(() => 201));
    const list = await request(session, {
      ':path': `/api/v1/namespaces/${ns}/configmaps?limit=500`,
      ...auth(),
    });
    const items = (JSON.parse(list.text) as { items: { metadata: { name: string } }[] }).items;
    expect(items.map((i) => i.metadata.name)).toEqual(expect.arrayContaining(names));
  });

  it('refuses an oversized body with its Status and ends only that stream', async () => {
    const refused = await request(
      session,
      createHeaders(),
      JSON.stringify({ metadata: { name: 'too-big' }, data: { a: 'x'.repeat(2 * BODY_LIMIT) } }),
      { unfinished: true },
    );
    expect(refused.headers[':status']).toBe(413);
    // The client never finished its body, yet the stream is closed: the server reset it without
    // error (a stream left open would wait for the rest, holding the session and shutdown up).
    await waitFor('the stream reset', () => (refused.stream.closed ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(refused.stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    // Node's client keeps a stream whose own body is unfinished until told.
    refused.stream.destroy();
    expect(JSON.parse(refused.text)).toMatchObject({
      kind: 'Status',
      reason: 'RequestEntityTooLarge',
      code: 413,
    });
    // The session goes on; nothing was stored.
    const missing = await request(session, {
      ':path': `/api/v1/namespaces/${ns}/configmaps/too-big`,
      ...auth(),
    });
    expect(missing.headers[':status']).toBe(404);
  });

  it('stores nothing of a body whose client went away part-way, even one that parses', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: half\ndata:\n  a: "1"\n';
    const doomed = connect(c.server.url, { ca: c.server.caCert });
    doomed.on('error', () => undefined);
    const stream = doomed.request(createHeaders('application/yaml'));
    stream.on('error', () => undefined);
    // Everything up to a line break arrived (valid YAML on its own), then the client died.
    stream.write(manifest, () => setTimeout(() => doomed.destroy(), 200));
    await new Promise((resolve) => doomed.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const missing = await request(session, {
      ':path': `/api/v1/namespaces/${ns}/configmaps/half`,
      ...auth(),
    });
    expect(missing.headers[':status']).toBe(404);
  });

  it('resets a request whose body never finishes once the request time is up, as HTTP/1.1 cuts it off', async () => {
    const started = Date.now();
    const slow = session.request(createHeaders());
    slow.on('error', () => undefined);
    slow.write('{"metadata":');
    await new Promise((resolve) => slow.once('close', resolve));
    expect(slow.rstCode).toBe(constants.NGHTTP2_CANCEL);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    // Only that stream: the session serves the next request.
    const next = await request(session, { ':path': `/api/v1/namespaces/${ns}`, ...auth() });
    expect(next.headers[':status']).toBe(200);
  });

  it('reads no body for a public path, whose anonymous access is for reads only', async () => {
    const r = await request(
      session,
      { ':method': 'POST', ':path': '/healthz', 'content-type': 'application/json' },
      '{}',
    );
    expect(r.headers[':status']).toBe(401);
    expect((await request(session, { ':path': '/healthz' })).headers[':status']).toBe(200);
  });

  it('gives an anonymous request 401 with a Status, as over HTTP/1.1', async () => {
    const r = await request(session, { ':path': `/api/v1/namespaces/${ns}/configmaps` });
    expect(r.headers[':status']).toBe(401);
    expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});

describe('HTTP/2 idle sessions', () => {
  let c: ApiCluster;
  // Long enough that a stalled CI machine does not reach it between opening a session and its
  // first request (the server counts a session idle from its handshake).
  const IDLE_MS = 3_000;
  const ns = 'h2-idle';
  const sessions: ClientHttp2Session[] = [];
  const auth = () => ({ authorization: `Bearer ${c.connection.token}` });
  const open = async (): Promise<ClientHttp2Session> => {
    const session = connect(c.server.url, { ca: c.server.caCert });
    sessions.push(session);
    await new Promise<void>((resolve, reject) =>
      session.once('connect', () => resolve()).once('error', reject),
    );
    return session;
  };

  beforeAll(async () => {
    c = await startApiCluster({ controllers: [], idleTimeoutMs: IDLE_MS });
    await c.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await c?.close();
  });

  it('closes a session with no stream open, with GOAWAY, and not one whose only stream is a quiet watch', async () => {
    const watching = await open();
    const watch = watching.request({ ':path': `/api/v1/namespaces/${ns}/configmaps?watch=true`, ...auth() });
    let buffered = '';
    watch.setEncoding('utf8');
    watch.on('data', (chunk: string) => (buffered += chunk));
    // A GOAWAY would not end the watch at once (a closing session finishes its streams), but
    // the client would take it as the end of the connection: none may come.
    let watchSessionGone = false;
    watching.once('goaway', () => (watchSessionGone = true)).once('close', () => (watchSessionGone = true));

    const idle = await open();
    let goaway: number | undefined;
    idle.once('goaway', (code) => (goaway = code));
    expect((await request(idle, { ':path': `/api/v1/namespaces/${ns}`, ...auth() })).headers[':status']).toBe(
      200,
    );
    await waitFor('the idle session closed by the server', () => (idle.closed ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(goaway).toBe(constants.NGHTTP2_NO_ERROR);

    // Twice the idle time more with nothing on the watch: its session stays, and the watch
    // still carries the next event.
    await new Promise((r) => setTimeout(r, 2 * IDLE_MS));
    expect(watchSessionGone).toBe(false);
    await c.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'after-quiet' } });
    await waitFor(
      'the event on the quiet watch',
      () => (buffered.includes('"after-quiet"') ? true : undefined),
      {
        timeoutMs: 10_000,
      },
    );
    watch.close(constants.NGHTTP2_CANCEL);
  });
});
