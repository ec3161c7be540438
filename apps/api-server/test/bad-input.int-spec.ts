import { type OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { configMapBody as cm, deploymentBody as deployment } from '@app/testing/fixtures.js';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/**
 * Reliability §6.2: bad input of every class gets the right 4xx Status in bounded time, stores
 * nothing, and leaves the server (which runs in this process) answering, within memory, with
 * Object.prototype as it was. Every request is bounded by a timeout, so a hang fails its test.
 */

const ns = 'bad';
const MIB = 1024 * 1024;
const BODY_LIMIT = 3 * MIB;
/** Long enough for a loaded 2-core machine; a hang is what it catches, not slowness. */
const REQUEST_TIMEOUT_MS = 30_000;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: {
    kind?: string;
    reason?: string;
    code?: number;
    message?: string;
    details?: { causes?: { field?: string; reason?: string; message?: string }[] };
    metadata?: Record<string, unknown>;
    [k: string]: unknown;
  };
}

interface RawRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: OutgoingHttpHeaders;
  /** Send the body in pieces without a Content-Length (chunked), and optionally never end it. */
  chunked?: { pieces: Buffer[]; end: boolean };
  /** Authorization as sent; undefined: the admin's token. */
  auth?: string | string[] | null;
}

const CM_PATH = `/api/v1/namespaces/${ns}/configmaps`;
const DEPLOY_PATH = `/apis/apps/v1/namespaces/${ns}/deployments`;

describe('bad input (reliability §6.2)', () => {
  let c: ApiCluster;
  let token: string;
  let host: string;
  let port: number;
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const objectBefore = Object.getOwnPropertyNames(Object).sort();
  const arrayPrototypeBefore = Object.getOwnPropertyNames(Array.prototype).sort();

  beforeAll(async () => {
    // Short slowloris bounds so a trickling client is cut off within the test's patience.
    c = await startApiCluster({ headersTimeoutMs: 2_000, requestTimeoutMs: 4_000, watchTimeoutMs: 60_000 });
    token = c.server.tokens.tokenOf('admin');
    const url = new URL(c.server.url);
    host = url.hostname;
    port = Number(url.port);
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => c?.close());

  /** One HTTPS request with its own connection, bounded in time; the body parsed when it is JSON. */
  function send(r: RawRequest): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { accept: 'application/json', ...r.headers };
      if (r.auth === undefined) headers.authorization = `Bearer ${token}`;
      // Node sends an array as one header line per value.
      else if (r.auth !== null) (headers as Record<string, string | string[]>).authorization = r.auth;
      if (r.body !== undefined && !r.chunked) headers['content-length'] = Buffer.byteLength(r.body);
      if (r.body !== undefined || r.chunked) headers['content-type'] ??= 'application/json';
      const req = request(
        new URL(r.path, c.server.url),
        { method: r.method, ca: c.server.caCert, headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let body: Reply['body'] = {};
            try {
              body = JSON.parse(text) as Reply['body'];
            } catch {
              // not JSON: the assertions on kind say so
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
          });
          res.on('error', reject);
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`${r.method} ${r.path.slice(0, 100)}: no answer in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      // The server may answer (413) and close before the whole body is written.
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
      });
      if (r.chunked) {
        for (const p of r.chunked.pieces) req.write(p);
        if (r.chunked.end) req.end();
      } else req.end(r.body);
    });
  }

  /** Bytes written on a bare TLS connection; what came back before the server closed it. */
  function rawExchange(
    write: (socket: ReturnType<typeof connect>) => void,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<{ text: string; closed: boolean }> {
    return new Promise((resolve) => {
      const socket = connect({ host, port, ca: c.server.caCert, servername: 'localhost' }, () =>
        write(socket),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (b: Buffer) => chunks.push(b));
      socket.on('error', () => undefined);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text: Buffer.concat(chunks).toString('utf8'), closed: false });
      }, timeoutMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text: Buffer.concat(chunks).toString('utf8'), closed: true });
      });
    });
  }

  function expectStatus(res: Reply, code: number, reason: string, fields?: string[]): void {
    expect({ status: res.status, kind: res.body.kind, reason: res.body.reason, code: res.body.code }).toEqual(
      {
        status: code,
        kind: 'Status',
        reason,
        code,
      },
    );
    if (fields)
      expect((res.body.details?.causes ?? []).map((x) => x.field)).toEqual(expect.arrayContaining(fields));
  }

  async function expectAbsent(path: string): Promise<void> {
    expect((await send({ method: 'GET', path })).status).toBe(404);
  }

  async function configMapNames(): Promise<string[]> {
    const list = await send({ method: 'GET', path: CM_PATH });
    expect(list.status).toBe(200);
    return ((list.body.items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name);
  }

  async function create(path: string, obj: unknown): Promise<Reply> {
    return send({ method: 'POST', path, body: JSON.stringify(obj) });
  }

  /** The body `obj` with `pad` spaces after it: exactly `size` bytes of valid JSON. */
  function jsonOfSize(obj: unknown, size: number): string {
    const text = JSON.stringify(obj);
    return text + ' '.repeat(size - Buffer.byteLength(text));
  }

  describe('1. oversize bodies', () => {
    it('takes a body of exactly 3 MiB and refuses 3 MiB + 1 byte with a 413 before reading it all', async () => {
      // Exactly at the limit: read and decoded; ConfigMap data is then too large for its own limit.
      const atLimit = await send({
        method: 'POST',
        path: CM_PATH,
        body: jsonOfSize(cm('at-limit', { a: 'x'.repeat(2 * MIB) }), BODY_LIMIT),
      });
      expectStatus(atLimit, 422, 'Invalid', ['data']);
      const over = await send({
        method: 'POST',
        path: CM_PATH,
        body: jsonOfSize(cm('over-limit', { a: 'x' }), BODY_LIMIT + 1),
      });
      expectStatus(over, 413, 'RequestEntityTooLarge');
      expect(over.headers.connection).toBe('close');
      await expectAbsent(`${CM_PATH}/over-limit`);
    });

    it('cuts a chunked body off as it passes the limit, without waiting for its end', async () => {
      const head = Buffer.from(JSON.stringify(cm('chunked-over')).slice(0, -1) + ',"pad":"');
      const piece = Buffer.alloc(256 * 1024, 'x');
      const pieces = [head, ...Array.from({ length: 13 }, () => piece)];
      expect(pieces.reduce((n, p) => n + p.length, 0)).toBeGreaterThan(BODY_LIMIT);
      // The body never ends: only a server that stops at the limit can answer.
      const res = await rawExchange((socket) => {
        socket.write(
          `POST ${CM_PATH} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        for (const p of pieces)
          socket.write(Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
      });
      expect(res.closed).toBe(true);
      expect(res.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(res.text).toContain('"reason":"RequestEntityTooLarge"');
      await expectAbsent(`${CM_PATH}/chunked-over`);
      // A chunked body within the limit is read as any other.
      const small = Buffer.from(JSON.stringify(cm('chunked-ok', { a: 'b' })));
      const ok = await send({
        method: 'POST',
        path: CM_PATH,
        chunked: { pieces: [small.subarray(0, 10), small.subarray(10)], end: true },
      });
      expect(ok.status).toBe(201);
    });

    it('measures a gzip body after inflating it: a bomb is a 413, a small one is read; unknown encodings are 415', async () => {
      const bomb = gzipSync(Buffer.from(jsonOfSize(cm('gzip-bomb'), 16 * MIB)));
      expect(bomb.length).toBeLessThan(BODY_LIMIT / 10);
      const refused = await send({
        method: 'POST',
        path: CM_PATH,
        body: bomb,
        headers: { 'content-encoding': 'gzip' },
      });
      expectStatus(refused, 413, 'RequestEntityTooLarge');
      await expectAbsent(`${CM_PATH}/gzip-bomb`);
      const ok = await send({
        method: 'POST',
        path: CM_PATH,
        body: gzipSync(Buffer.from(JSON.stringify(cm('gzip-ok', { a: 'b' })))),
        headers: { 'content-encoding': 'gzip' },
      });
      expect(ok.status).toBe(201);
      expect(ok.body.data).toEqual({ a: 'b' });
      const corrupt = await send({
        method: 'POST',
        path: CM_PATH,
        body: Buffer.from('not gzip at all'),
        headers: { 'content-encoding': 'gzip' },
      });
      expectStatus(corrupt, 400, 'BadRequest');
      const br = await send({
        method: 'POST',
        path: CM_PATH,
        body: JSON.stringify(cm('brotli')),
        headers: { 'content-encoding': 'br' },
      });
      expectStatus(br, 415, 'UnsupportedMediaType');
      await expectAbsent(`${CM_PATH}/brotli`);
    });
  });

  describe('2. deep nesting', () => {
    const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const nestedArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

    let rssBefore = 0;
    beforeAll(async () => {
      expect((await create(CM_PATH, cm('deep-target', { a: 'b' }))).status).toBe(201);
      rssBefore = process.memoryUsage().rss;
    });

    afterAll(async () => {
      // The server shares this process: alive, and not holding what it refused.
      expect((await send({ method: 'GET', path: '/healthz', auth: null })).status).toBe(200);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * MIB);
    });

    it('takes a body nested 256 levels deep and refuses 257', async () => {
      const body = (depth: number) =>
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-${depth}"},"x":${nestedObject(depth)}}`;
      expect((await send({ method: 'POST', path: CM_PATH, body: body(255) })).status).toBe(201);
      expectStatus(await send({ method: 'POST', path: CM_PATH, body: body(256) }), 400, 'BadRequest');
      await expectAbsent(`${CM_PATH}/deep-256`);
    });

    it.each([1_000, 10_000, 100_000])(
      'refuses objects and arrays %i levels deep with a 400',
      async (depth) => {
        const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-${depth}"},"x":${nestedObject(depth)}}`;
        expectStatus(await send({ method: 'POST', path: CM_PATH, body }), 400, 'BadRequest');
        const patch = await send({
          method: 'PATCH',
          path: `${CM_PATH}/chunked-ok`,
          body: `{"data":{"x":${nestedArray(depth)}}}`,
          headers: { 'content-type': 'application/merge-patch+json' },
        });
        expectStatus(patch, 400, 'BadRequest');
        const yamlBody = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-yaml-${depth}\nx: ${nestedArray(depth)}\n`;
        expectStatus(
          await send({
            method: 'POST',
            path: CM_PATH,
            body: yamlBody,
            headers: { 'content-type': 'application/yaml' },
          }),
          400,
          'BadRequest',
        );
        await expectAbsent(`${CM_PATH}/deep-${depth}`);
        await expectAbsent(`${CM_PATH}/deep-yaml-${depth}`);
        expect((await send({ method: 'GET', path: `${CM_PATH}/deep-target` })).body.data).toEqual({ a: 'b' });
      },
    );
  });

  describe('3. YAML bombs', () => {
    const yamlPost = (body: string) =>
      send({ method: 'POST', path: CM_PATH, body, headers: { 'content-type': 'application/yaml' } });

    it('refuses billion laughs, merge-key fan-out and anchor cycles with a 400, in bounded memory', async () => {
      const rssBefore = process.memoryUsage().rss;
      // 9 levels of 9 aliases each: 9^9 (387 million) leaves from a document under 1 KiB.
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i);
        const next = String.fromCharCode(97 + i);
        levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      const laughs = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\nx:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;
      expect(laughs.length).toBeLessThan(1024);
      expectStatus(await yamlPost(laughs), 400, 'BadRequest');
      const fanOut = [
        `m0: &m0 {${Array.from({ length: 20 }, (_, i) => `k${i}: [1,2,3,4,5,6,7,8]`).join(', ')}}`,
      ];
      for (let i = 1; i < 12; i++)
        fanOut.push(
          `m${i}: &m${i} {<<: [${Array(8)
            .fill(`*m${i - 1}`)
            .join(', ')}], l${i}: [*m${i - 1}, *m${i - 1}, *m${i - 1}, *m${i - 1}]}`,
        );
      const merges = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merges\nx:\n${fanOut.map((l) => `  ${l}`).join('\n')}\n`;
      expectStatus(await yamlPost(merges), 400, 'BadRequest');
      const cycle = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cycle\ndata: &d\n  self: *d\n';
      expectStatus(await yamlPost(cycle), 400, 'BadRequest');
      const listCycle = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cycle2\nx: &x [*x]\n';
      expectStatus(await yamlPost(listCycle), 400, 'BadRequest');
      for (const name of ['laughs', 'merges', 'cycle', 'cycle2']) await expectAbsent(`${CM_PATH}/${name}`);
      // The server shares this process: had an alias been expanded, this would be gigabytes.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * MIB);
      // A modest alias is fine: YAML manifests use them.
      const modest = await yamlPost(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aliased\n  labels: &l {app: web}\n  annotations: *l\ndata: {a: "1"}\n',
      );
      expect(modest.status).toBe(201);
      expect(modest.body.metadata?.annotations).toEqual({ app: 'web' });
    });

    it('keeps YAML timestamps and binary tags as the strings they are (no Date or Buffer values)', async () => {
      const res = await yamlPost(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-types\ndata:\n  when: 2001-12-14t21:59:43.10-05:00\n',
      );
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({ when: '2001-12-14t21:59:43.10-05:00' });
    });
  });

  describe('4. JSON patch abuse', () => {
    const jsonPatch = (name: string, ops: unknown) =>
      send({
        method: 'PATCH',
        path: `${CM_PATH}/${name}`,
        body: JSON.stringify(ops),
        headers: { 'content-type': 'application/json-patch+json' },
      });

    beforeAll(async () => {
      expect((await create(CM_PATH, cm('patched', { seed: 'x'.repeat(512 * 1024) }))).status).toBe(201);
    });

    it('refuses 10,001 operations with a 413 and takes 10,000', async () => {
      const test = { op: 'test', path: '/metadata/name', value: 'patched' };
      expectStatus(await jsonPatch('patched', Array(10_001).fill(test)), 413, 'RequestEntityTooLarge');
      expect((await jsonPatch('patched', Array(10_000).fill(test))).status).toBe(200);
    });

    it('refuses copies that would duplicate more than 3 MiB with a 413, storing nothing', async () => {
      const before = await send({ method: 'GET', path: `${CM_PATH}/patched` });
      const doubling = Array.from({ length: 30 }, (_, i) => ({
        op: 'copy',
        from: '/data',
        path: `/metadata/annotations/x${i}`,
      }));
      const grow = [{ op: 'add', path: '/metadata/annotations', value: {} }, ...doubling];
      expectStatus(await jsonPatch('patched', grow), 413, 'RequestEntityTooLarge');
      const nested = [
        { op: 'add', path: '/data/d0', value: 'x'.repeat(1024) },
        ...Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '/data', path: `/data/d${i + 1}` })),
      ];
      expectStatus(await jsonPatch('patched', nested), 413, 'RequestEntityTooLarge');
      const after = await send({ method: 'GET', path: `${CM_PATH}/patched` });
      expect(after.body.metadata?.resourceVersion).toBe(before.body.metadata?.resourceVersion);
    });

    it('refuses malformed pointers and paths through inherited properties with a 422', async () => {
      for (const ops of [
        [{ op: 'add', path: '/metadata/~2', value: 'x' }],
        [{ op: 'add', path: '/data/-/b', value: 'x' }],
        [{ op: 'add', path: '/constructor/polluted', value: 'x' }],
        [{ op: 'add', path: '/metadata/constructor/prototype/polluted', value: 'x' }],
        [{ op: 'add', path: '/__proto__/polluted', value: 'x' }],
        [{ op: 'copy', from: '/toString', path: '/data/f' }],
        [{ op: 'replace', path: '/hasOwnProperty', value: 'x' }],
        [{ op: 'move', from: '/data/constructor', path: '/data/x' }],
      ]) {
        const res = await jsonPatch('patched', ops);
        expect([ops, res.status, res.body.reason]).toEqual([ops, 422, 'Invalid']);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
      // Malformed operations are a 400.
      expectStatus(await jsonPatch('patched', [{ op: 'explode', path: '/data' }]), 400, 'BadRequest');
      expectStatus(await jsonPatch('patched', { op: 'add' }), 400, 'BadRequest');
      expectStatus(
        await jsonPatch('patched', [{ op: 'add', path: 'metadata', value: 'x' }]),
        400,
        'BadRequest',
      );
    });
  });

  describe('5. encodings', () => {
    const post = (bytes: Buffer) => send({ method: 'POST', path: CM_PATH, body: bytes });
    const wrap = (inner: Buffer, name: string) =>
      Buffer.concat([
        Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"data":{"a":"`),
        inner,
        Buffer.from('"}}'),
      ]);

    it('refuses invalid UTF-8 and overlong encodings with a 400 instead of substituting U+FFFD', async () => {
      expectStatus(await post(wrap(Buffer.from([0xc3, 0x28]), 'bad-utf8')), 400, 'BadRequest');
      expectStatus(await post(wrap(Buffer.from([0xc0, 0xaf]), 'overlong')), 400, 'BadRequest');
      expectStatus(await post(wrap(Buffer.from([0xed, 0xa0, 0x80]), 'cesu')), 400, 'BadRequest');
      for (const name of ['bad-utf8', 'overlong', 'cesu']) await expectAbsent(`${CM_PATH}/${name}`);
    });

    it('refuses lone surrogates and NUL anywhere (Postgres could not store them) with a 400', async () => {
      for (const [name, escaped] of [
        ['lone-high', '\\ud800'],
        ['lone-low', 'x\\udc00'],
        ['nul', 'a\\u0000b'],
      ]) {
        expectStatus(await post(wrap(Buffer.from(escaped), name)), 400, 'BadRequest');
        await expectAbsent(`${CM_PATH}/${name}`);
      }
      expectStatus(
        await send({ method: 'POST', path: CM_PATH, body: '{"metadata":{"name":"a\\u0000"}}' }),
        400,
        'BadRequest',
      );
      expectStatus(
        await send({
          method: 'POST',
          path: CM_PATH,
          body: '{"metadata":{"name":"nul-key","labels":{"a\\u0000":"b"}}}',
        }),
        400,
        'BadRequest',
      );
      // A NUL or a broken escape in the path or a selector never reaches Postgres.
      expectStatus(await send({ method: 'GET', path: `${CM_PATH}/a%00b` }), 400, 'BadRequest');
      expectStatus(await send({ method: 'GET', path: `${CM_PATH}/a%E0%A4%A` }), 400, 'BadRequest');
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?fieldSelector=metadata.name%3Da%00` }),
        400,
        'BadRequest',
      );
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?labelSelector=a%3Db%00` }),
        400,
        'BadRequest',
      );
      // Paired surrogates (an emoji) are text like any other.
      const ok = await post(wrap(Buffer.from('\\ud83d\\ude00 😀'), 'emoji'));
      expect(ok.status).toBe(201);
      expect(ok.body.data).toEqual({ a: '😀 😀' });
    });
  });

  describe('6. names', () => {
    it.each([
      ['empty', '', 'FieldValueRequired'],
      ['254 characters', 'a'.repeat(254), 'FieldValueInvalid'],
      ['upper case', 'Abc', 'FieldValueInvalid'],
      ['leading dash', '-a', 'FieldValueInvalid'],
      ['trailing dash', 'a-', 'FieldValueInvalid'],
      ['empty label', 'a..b', 'FieldValueInvalid'],
      ['dot', '.', 'FieldValueInvalid'],
      ['dot dot', '..', 'FieldValueInvalid'],
      ['slash', 'a/b', 'FieldValueInvalid'],
      ['percent', 'a%b', 'FieldValueInvalid'],
      ['Cyrillic homoglyph', 'аbc', 'FieldValueInvalid'],
      ['space', 'a b', 'FieldValueInvalid'],
    ])('refuses a ConfigMap named %s with a 422 at metadata.name', async (_what, name, reason) => {
      const res = await create(CM_PATH, cm(name));
      expectStatus(res, 422, 'Invalid', ['metadata.name']);
      expect(res.body.details?.causes?.[0]?.reason).toBe(reason);
    });

    it('takes names at the limits (253-character subdomain, 63-character namespace) and refuses one past', async () => {
      const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
      expect(longest).toHaveLength(253);
      expect((await create(CM_PATH, cm(longest))).status).toBe(201);
      expect((await create('/api/v1/namespaces', { metadata: { name: 'n'.repeat(63) } })).status).toBe(201);
      expectStatus(
        await create('/api/v1/namespaces', { metadata: { name: 'n'.repeat(64) } }),
        422,
        'Invalid',
        ['metadata.name'],
      );
      expectStatus(await create('/api/v1/namespaces', { metadata: { name: 'a.b' } }), 422, 'Invalid', [
        'metadata.name',
      ]);
      await expectAbsent(`/api/v1/namespaces/${'n'.repeat(64)}`);
    });

    it('reads %2F in the path as part of the name: no object has it', async () => {
      expect((await create(CM_PATH, cm('a'))).status).toBe(201);
      expect((await send({ method: 'GET', path: `${CM_PATH}/a%2Fb` })).status).toBe(404);
      const put = await send({ method: 'PUT', path: `${CM_PATH}/a%2Fb`, body: JSON.stringify(cm('a/b')) });
      expect(put.status).toBe(404);
      expect((await configMapNames()).filter((n) => n.includes('/'))).toEqual([]);
    });
  });

  describe('7. labels', () => {
    it.each([
      ['a 64-character value', { a: 'v'.repeat(64) }],
      ['a 254-character prefix', { [`${'p'.repeat(254)}/a`]: 'v' }],
      ['two slashes', { 'a/b/c': 'v' }],
      ['an empty prefix', { '/x': 'v' }],
      ['an empty name', { 'x/': 'v' }],
      ['a value ending in -', { a: 'v-' }],
      ['a key starting with _', { _x: 'v' }],
      ['a 64-character name', { ['k'.repeat(64)]: 'v' }],
      ['a non-string value', { a: 1 }],
    ])('refuses %s with a 422 at metadata.labels', async (_what, labels) => {
      const name = `labels-${Math.random().toString(36).slice(2, 8)}`;
      expectStatus(await create(CM_PATH, cm(name, {}, { labels })), 422, 'Invalid', ['metadata.labels']);
      await expectAbsent(`${CM_PATH}/${name}`);
    });

    it('takes labels at the limits', async () => {
      const prefix = `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(61)}`;
      const labels = { [`${prefix}/${'k'.repeat(63)}`]: 'v'.repeat(63), a: '', 'x.y_z-1': 'A.b_c-9' };
      const res = await create(CM_PATH, cm('labels-at-limits', {}, { labels }));
      expect(res.status).toBe(201);
      expect(res.body.metadata?.labels).toEqual(labels);
    });

    it('checks a map of 100,000 labels in bounded time and refuses its one bad key', async () => {
      const labels: Record<string, string> = {};
      for (let i = 0; i < 100_000; i++) labels[`k${i}`] = 'v';
      labels['bad key'] = 'v';
      const res = await create(CM_PATH, cm('many-labels', {}, { labels }));
      expectStatus(res, 422, 'Invalid', ['metadata.labels']);
      expect(res.body.details?.causes).toHaveLength(1);
      await expectAbsent(`${CM_PATH}/many-labels`);
    });
  });

  describe('8. annotations and data sizes', () => {
    it('takes annotations of exactly 256 KiB and refuses one byte more with TooLong', async () => {
      const limit = 256 * 1024;
      const at = await create(CM_PATH, cm('annotated', {}, { annotations: { a: 'x'.repeat(limit - 1) } }));
      expect(at.status).toBe(201);
      const over = await create(CM_PATH, cm('annotated-over', {}, { annotations: { a: 'x'.repeat(limit) } }));
      expectStatus(over, 422, 'Invalid', ['metadata.annotations']);
      expect(over.body.details?.causes?.[0]?.reason).toBe('FieldValueTooLong');
      // Bytes, not characters: 'é' is two.
      const multiByte = await create(
        CM_PATH,
        cm('annotated-utf8', {}, { annotations: { a: 'é'.repeat(limit / 2) } }),
      );
      expectStatus(multiByte, 422, 'Invalid', ['metadata.annotations']);
      for (const name of ['annotated-over', 'annotated-utf8']) await expectAbsent(`${CM_PATH}/${name}`);
    });

    it('checks annotation keys lower-cased, as upstream does (an upper-case key is valid)', async () => {
      const res = await create(
        CM_PATH,
        cm('upper-annotation', {}, { annotations: { 'Example.COM/Key': 'v' } }),
      );
      expect(res.status).toBe(201);
      expectStatus(
        await create(CM_PATH, cm('bad-annotation', {}, { annotations: { 'a b': 'v' } })),
        422,
        'Invalid',
        ['metadata.annotations'],
      );
    });

    it('takes ConfigMap data of exactly 1 MiB (data and binaryData together) and refuses a byte more', async () => {
      const half = 512 * 1024;
      const binary = Buffer.alloc(half, 1).toString('base64');
      const at = await create(CM_PATH, {
        ...cm('data-at-limit', { a: 'x'.repeat(half) }),
        binaryData: { b: binary },
      });
      expect(at.status).toBe(201);
      const over = await create(CM_PATH, {
        ...cm('data-over', { a: 'x'.repeat(half + 1) }),
        binaryData: { b: binary },
      });
      expectStatus(over, 422, 'Invalid', ['data']);
      expect(over.body.details?.causes?.[0]?.reason).toBe('FieldValueTooLong');
      expectStatus(await create(CM_PATH, cm('bad-key', { 'a/b': 'x' })), 422, 'Invalid', ['data']);
      expectStatus(await create(CM_PATH, cm('dot-key', { '..a': 'x' })), 422, 'Invalid', ['data']);
      expectStatus(
        await create(CM_PATH, { ...cm('both-maps', { a: 'x' }), binaryData: { a: 'eA==' } }),
        422,
        'Invalid',
        ['binaryData'],
      );
      for (const name of ['data-over', 'bad-key', 'dot-key', 'both-maps'])
        await expectAbsent(`${CM_PATH}/${name}`);
    });

    it('takes Secret data of exactly 1 MiB decoded and refuses a byte more, and data that is not base64', async () => {
      const secret = (name: string, bytes: number) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name },
        data: { k: Buffer.alloc(bytes, 7).toString('base64') },
      });
      const path = `/api/v1/namespaces/${ns}/secrets`;
      expect((await create(path, secret('secret-at-limit', MIB))).status).toBe(201);
      expectStatus(await create(path, secret('secret-over', MIB + 1)), 422, 'Invalid', ['data']);
      const notBase64 = await create(path, { ...secret('secret-not-base64', 1), data: { k: 'not base64!' } });
      expectStatus(notBase64, 422, 'Invalid', ['data[k]']);
      expect(notBase64.text).not.toContain('not base64!');
      await expectAbsent(`${path}/secret-over`);
      await expectAbsent(`${path}/secret-not-base64`);
    });
  });

  describe('11. __proto__ and constructor', () => {
    it('keeps __proto__ and constructor as plain keys where they are valid, refuses them where they are not', async () => {
      // JSON.parse makes __proto__ an own key; copying or merging must keep it one.
      const data = '{"__proto__":"p","constructor":"c","prototype":"q"}';
      const res = await send({
        method: 'POST',
        path: CM_PATH,
        body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"proto-keys","annotations":{"constructor":"x"}},"data":${data}}`,
      });
      expect(res.status).toBe(201);
      const stored = await send({ method: 'GET', path: `${CM_PATH}/proto-keys` });
      expect(stored.text).toContain('"__proto__":"p"');
      expect(Object.keys(stored.body.data as object).sort()).toEqual([
        '__proto__',
        'constructor',
        'prototype',
      ]);
      const merged = await send({
        method: 'PATCH',
        path: `${CM_PATH}/proto-keys`,
        body: '{"data":{"__proto__":"p2","constructor":null},"metadata":{"annotations":{"__proto__":null}}}',
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(merged.status).toBe(200);
      const afterMerge = await send({ method: 'GET', path: `${CM_PATH}/proto-keys` });
      expect(afterMerge.text).toContain('"__proto__":"p2"');
      expect(Object.keys(afterMerge.body.data as object).sort()).toEqual(['__proto__', 'prototype']);
      const nested = await send({
        method: 'PATCH',
        path: `${CM_PATH}/proto-keys`,
        body: '{"metadata":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}',
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(nested.status).toBeLessThan(500);
      for (const [what, labels] of [
        ['__proto__ label key', '{"__proto__":"x"}'],
        ['constructor.prototype label', '{"constructor":{"prototype":"x"}}'],
      ]) {
        const bad = await send({
          method: 'POST',
          path: CM_PATH,
          body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"proto-labels","labels":${labels}}}`,
        });
        expect([what, bad.status]).toEqual([what, 422]);
        expectStatus(bad, 422, 'Invalid', ['metadata.labels']);
      }
      await expectAbsent(`${CM_PATH}/proto-labels`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('ignores __proto__ in query strings', async () => {
      for (const query of [
        'labelSelector[__proto__]=x',
        '__proto__[polluted]=1',
        'constructor[prototype][polluted]=1',
        '__proto__=x',
      ])
        expect((await send({ method: 'GET', path: `${CM_PATH}?${query}` })).status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('12. numbers', () => {
    it.each([
      ['2^53+1', '9007199254740993'],
      ['1e400', '1e400'],
      ['-1e400', '-1e400'],
      ['-0', '-0'],
    ])('refuses replicas %s with a 422 at spec.replicas', async (what, literal) => {
      const name = `num-${what.replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
      const body = JSON.stringify(deployment(name, 0)).replace('"replicas":0', `"replicas":${literal}`);
      expectStatus(await send({ method: 'POST', path: DEPLOY_PATH, body }), 422, 'Invalid', [
        'spec.replicas',
      ]);
      await expectAbsent(`${DEPLOY_PATH}/${name}`);
    });

    it('refuses negative and string replicas with a 422, and keeps 2^53-1 exactly where any number goes', async () => {
      expectStatus(await create(DEPLOY_PATH, deployment('num-negative', -1)), 422, 'Invalid', [
        'spec.replicas',
      ]);
      expectStatus(await create(DEPLOY_PATH, deployment('num-string', '3')), 422, 'Invalid', [
        'spec.replicas',
      ]);
      const big = await send({
        method: 'POST',
        path: CM_PATH,
        body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"num-max"},"x":9007199254740991}',
      });
      expect(big.status).toBe(201);
      // Upstream's int64 resourceVersion, generation: as strings and safe integers they round-trip.
      const dep = await create(DEPLOY_PATH, deployment('num-ok', 2));
      expect(dep.status).toBe(201);
      expect(typeof dep.body.metadata?.resourceVersion).toBe('string');
      expect(dep.body.metadata?.generation).toBe(1);
      const changed = await send({
        method: 'PUT',
        path: `${DEPLOY_PATH}/num-ok`,
        body: JSON.stringify({ ...dep.body, metadata: { ...dep.body.metadata, generation: -1 } }),
      });
      expect(changed.status).toBe(200);
      expect(changed.body.metadata?.generation).toBe(1);
    });
  });

  describe('13. type confusion', () => {
    it.each([
      ['metadata: null', '{"apiVersion":"v1","kind":"ConfigMap","metadata":null}', 400, undefined],
      ['metadata: a string', '{"apiVersion":"v1","kind":"ConfigMap","metadata":"x"}', 400, undefined],
      [
        'labels: []',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tc1","labels":[]}}',
        422,
        'metadata.labels',
      ],
      [
        'annotations: "x"',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tc2","annotations":"x"}}',
        422,
        'metadata.annotations',
      ],
      ['data: []', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tc3"},"data":[]}', 422, 'data'],
      [
        'a number in data',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tc4"},"data":{"a":1}}',
        422,
        'data[a]',
      ],
      ['name: 5', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":5}}', 422, 'metadata.name'],
      [
        'finalizers: "x"',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tc5","finalizers":"x"}}',
        422,
        'metadata.finalizers',
      ],
      ['a body that is an array', '[]', 400, undefined],
      ['a body that is a string', '"x"', 400, undefined],
    ])('refuses %s', async (_what, body, code, field) => {
      const res = await send({ method: 'POST', path: CM_PATH, body });
      expectStatus(res, code, code === 400 ? 'BadRequest' : 'Invalid', field ? [field] : undefined);
    });

    it('refuses a Deployment whose spec is a string with a 422', async () => {
      const res = await create(DEPLOY_PATH, { ...deployment('tc-spec'), spec: 'x' });
      expectStatus(res, 422, 'Invalid', ['spec']);
      expect(res.body.details?.causes?.[0]?.reason).toBe('FieldValueTypeInvalid');
      const containers = await create(DEPLOY_PATH, {
        ...deployment('tc-containers'),
        spec: { ...deployment('x').spec, template: { spec: { containers: [true] } } },
      });
      expectStatus(containers, 422, 'Invalid', ['spec.template.spec.containers[0]']);
      await expectAbsent(`${DEPLOY_PATH}/tc-spec`);
      await expectAbsent(`${DEPLOY_PATH}/tc-containers`);
    });
  });

  describe('14. metadata on update', () => {
    let current: Reply['body'];
    const path = `${CM_PATH}/meta`;
    const put = (body: unknown) => send({ method: 'PUT', path, body: JSON.stringify(body) });
    const merge = (patch: unknown) =>
      send({
        method: 'PATCH',
        path,
        body: JSON.stringify(patch),
        headers: { 'content-type': 'application/merge-patch+json' },
      });
    const meta = () => current.metadata as Record<string, unknown>;

    beforeAll(async () => {
      const res = await create(CM_PATH, cm('meta', { a: '1' }, { finalizers: ['example.com/keep'] }));
      expect(res.status).toBe(201);
      current = res.body;
    });

    it('takes an update without a resourceVersion (ConfigMaps allow unconditional updates) and refuses a stale one with a 409', async () => {
      const unconditional = await put({ ...current, metadata: { ...meta(), resourceVersion: undefined } });
      expect(unconditional.status).toBe(200);
      const other = (await create(CM_PATH, cm('meta-other'))).body.metadata?.resourceVersion;
      expectStatus(
        await put({ ...current, metadata: { ...meta(), resourceVersion: other } }),
        409,
        'Conflict',
      );
      current = (await send({ method: 'GET', path })).body;
    });

    it('refuses changes to uid (409 on PUT as a precondition, 422 on PATCH), deletionTimestamp and grace period with "field is immutable"', async () => {
      expectStatus(await put({ ...current, metadata: { ...meta(), uid: 'not-the-uid' } }), 409, 'Conflict');
      const uid = await merge({ metadata: { uid: 'not-the-uid' } });
      expectStatus(uid, 422, 'Invalid', ['metadata.uid']);
      expect(uid.body.message).toContain('field is immutable');
      const deleting = await put({
        ...current,
        metadata: { ...meta(), deletionTimestamp: '2030-01-01T00:00:00Z' },
      });
      expectStatus(deleting, 422, 'Invalid', ['metadata.deletionTimestamp']);
      expectStatus(await merge({ metadata: { deletionGracePeriodSeconds: 5 } }), 422, 'Invalid', [
        'metadata.deletionGracePeriodSeconds',
      ]);
      // name and namespace are the URL's: a different one is a 400, as upstream.
      expectStatus(await put({ ...current, metadata: { ...meta(), name: 'other' } }), 400, 'BadRequest');
      expectStatus(await merge({ metadata: { namespace: 'default' } }), 400, 'BadRequest');
      // creationTimestamp and generation are the server's: what the client sends is ignored.
      const ignored = await merge({
        metadata: { creationTimestamp: '2000-01-01T00:00:00Z', generation: -5 },
      });
      expect(ignored.status).toBe(200);
      expect(ignored.body.metadata?.creationTimestamp).toBe(meta().creationTimestamp);
      expect(ignored.body.metadata?.uid).toBe(meta().uid);
      expect(ignored.body.metadata?.deletionTimestamp).toBeUndefined();
    });

    it('refuses bad finalizers and owner references with a 422', async () => {
      expectStatus(
        await merge({ metadata: { finalizers: ['orphan', 'foregroundDeletion'] } }),
        422,
        'Invalid',
        ['metadata.finalizers'],
      );
      expectStatus(await merge({ metadata: { finalizers: ['Bad Name'] } }), 422, 'Invalid', [
        'metadata.finalizers[0]',
      ]);
      const owner = (name: string, controller: boolean) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name,
        uid: `uid-${name}`,
        controller,
      });
      expectStatus(
        await merge({ metadata: { ownerReferences: [owner('a', true), owner('b', true)] } }),
        422,
        'Invalid',
        ['metadata.ownerReferences'],
      );
      expectStatus(
        await merge({ metadata: { ownerReferences: [{ kind: 'ConfigMap', name: 'a' }] } }),
        422,
        'Invalid',
        ['metadata.ownerReferences[0].apiVersion', 'metadata.ownerReferences[0].uid'],
      );
      expect(
        (await merge({ metadata: { ownerReferences: [owner('a', true), owner('b', false)] } })).status,
      ).toBe(200);
    });

    it('refuses a new finalizer on an object being deleted with a 422 and lets the last one go', async () => {
      expect((await send({ method: 'DELETE', path })).status).toBe(200);
      const deleting = (await send({ method: 'GET', path })).body;
      expect(deleting.metadata?.deletionTimestamp).toEqual(expect.any(String));
      const added = await merge({ metadata: { finalizers: ['example.com/keep', 'example.com/more'] } });
      expectStatus(added, 422, 'Invalid', ['metadata.finalizers']);
      expect(added.body.details?.causes?.[0]?.reason).toBe('FieldValueForbidden');
      // Being deleted already: the deletionTimestamp a client sends is ignored, not an error.
      const stale = await put({
        ...deleting,
        metadata: { ...deleting.metadata, deletionTimestamp: '2000-01-01T00:00:00Z' },
      });
      expect(stale.status).toBe(200);
      expect(stale.body.metadata?.deletionTimestamp).toBe(deleting.metadata?.deletionTimestamp);
      expect((await merge({ metadata: { finalizers: null } })).status).toBe(200);
      await expectAbsent(path);
    });
  });

  describe('15. authentication headers', () => {
    it.each([
      ['no header', null],
      ['an empty bearer token', 'Bearer '],
      ['a whitespace bearer token', 'Bearer    '],
      ['another scheme', 'Basic YWRtaW46YWRtaW4='],
    ])('refuses %s with a 401 Status', async (_what, auth) => {
      expectStatus(await send({ method: 'GET', path: CM_PATH, auth }), 401, 'Unauthorized');
    });

    it('refuses two Authorization headers, even when one is valid', async () => {
      for (const auth of [
        [`Bearer ${token}`, 'Bearer wrong'],
        ['Bearer wrong', `Bearer ${token}`],
        [`Bearer ${token}`, `Bearer ${token}`],
      ])
        expectStatus(await send({ method: 'GET', path: CM_PATH, auth }), 401, 'Unauthorized');
      expectStatus(
        await send({
          method: 'POST',
          path: CM_PATH,
          auth: [`Bearer ${token}`, 'Bearer x'],
          body: JSON.stringify(cm('two-auth')),
        }),
        401,
        'Unauthorized',
      );
      await expectAbsent(`${CM_PATH}/two-auth`);
    });

    it('refuses a 1 MB header with a 431 and closes the connection', async () => {
      const res = await send({ method: 'GET', path: CM_PATH, headers: { 'x-big': 'x'.repeat(1_000_000) } });
      expect(res.status).toBe(431);
      expect(res.body.kind).toBe('Status');
      expect(res.body.code).toBe(431);
    });
  });

  describe('17. watch parameters', () => {
    it('refuses a resourceVersion that is not a number with a 400, and one far ahead with a 504', async () => {
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?watch=true&resourceVersion=abc` }),
        400,
        'BadRequest',
      );
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?watch=true&resourceVersion=-1` }),
        400,
        'BadRequest',
      );
      const ahead = await send({ method: 'GET', path: `${CM_PATH}?watch=true&resourceVersion=999999999999` });
      expectStatus(ahead, 504, 'Timeout');
      expect(ahead.body.details).toMatchObject({ retryAfterSeconds: 1 });
      expect(ahead.headers['retry-after']).toBe('1');
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?watch=true&timeoutSeconds=abc` }),
        400,
        'BadRequest',
      );
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?watch=true&timeoutSeconds=1e400` }),
        400,
        'BadRequest',
      );
    });

    it('caps a huge timeoutSeconds instead of overflowing the timer (which would end the watch at once)', async () => {
      const watch = await c.stream(`${CM_PATH}?watch=true&timeoutSeconds=99999999999`);
      try {
        expect(watch.status).toBe(200);
        const ended = await Promise.race([
          watch.ended.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000)),
        ]);
        expect(ended).toBe(false);
        // Still live: a change made now arrives.
        expect((await create(CM_PATH, cm('watched-late'))).status).toBe(201);
        const deadline = Date.now() + REQUEST_TIMEOUT_MS;
        while (!watch.lines.some((l) => l.includes('watched-late')) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect(watch.lines.some((l) => l.includes('watched-late'))).toBe(true);
      } finally {
        watch.close();
      }
    });
  });

  describe('18. list parameters', () => {
    it.each(['-1', '1e9', 'abc', '1.5', '99999999999999999999'])(
      'refuses limit=%s with a 400',
      async (limit) => {
        expectStatus(await send({ method: 'GET', path: `${CM_PATH}?limit=${limit}` }), 400, 'BadRequest');
      },
    );

    it('takes a large decimal limit', async () => {
      const res = await send({ method: 'GET', path: `${CM_PATH}?limit=1000000000` });
      expect(res.status).toBe(200);
      expect(res.body.metadata?.continue).toBeUndefined();
    });

    it('refuses forged and tampered continue tokens: 400 when malformed, 504 for a future snapshot', async () => {
      const first = await send({ method: 'GET', path: `${CM_PATH}?limit=1` });
      const token = (first.body.metadata as { continue?: string }).continue as string;
      expect(token).toEqual(expect.any(String));
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forge = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      for (const bad of [
        'garbage!!',
        `${token.slice(0, -3)}xyz`,
        forge({ ...decoded, v: 2 }),
        forge({ ...decoded, rv: -1 }),
        forge({ ...decoded, rv: 'x' }),
        forge({ ...decoded, n: 'a\u0000' }),
        forge({ ...decoded, ns: { $ne: 1 } }),
        forge(null),
      ])
        expectStatus(
          await send({ method: 'GET', path: `${CM_PATH}?limit=1&continue=${encodeURIComponent(bad)}` }),
          400,
          'BadRequest',
        );
      const future = await send({
        method: 'GET',
        path: `${CM_PATH}?limit=1&continue=${forge({ ...decoded, rv: 9_000_000_000 })}`,
      });
      expectStatus(future, 504, 'Timeout');
      // A token only moves a list forward within its own namespace: forging another namespace leaks nothing.
      const elsewhere = await send({
        method: 'GET',
        path: `${CM_PATH}?limit=50&continue=${forge({ ...decoded, ns: 'a', n: '' })}`,
      });
      expect(elsewhere.status).toBe(200);
      for (const item of (elsewhere.body.items ?? []) as { metadata: { namespace: string } }[])
        expect(item.metadata.namespace).toBe(ns);
    });

    it('bounds selectors: 10,000 terms do not fit the request line (431); 2,000 are parsed in bounded time', async () => {
      const huge = Array.from({ length: 10_000 }, (_, i) => `k${i}`).join(',');
      expect((await send({ method: 'GET', path: `${CM_PATH}?labelSelector=${huge}` })).status).toBe(431);
      const many = Array(2_000).fill('a').join(',');
      expect((await send({ method: 'GET', path: `${CM_PATH}?labelSelector=${many}` })).status).toBe(200);
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?labelSelector=${'('.repeat(2000)}` }),
        400,
        'BadRequest',
      );
      expectStatus(
        await send({ method: 'GET', path: `${CM_PATH}?labelSelector=a%20in%20(${'b,'.repeat(1500)}` }),
        400,
        'BadRequest',
      );
    });
  });

  describe('19. slow clients', () => {
    it('closes a connection whose headers trickle in, while other clients are served', async () => {
      let timer: NodeJS.Timeout | undefined;
      const slow = rawExchange((socket) => {
        socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`);
        timer = setInterval(() => socket.writable && socket.write('X'), 200);
      });
      expect((await send({ method: 'GET', path: '/healthz', auth: null })).status).toBe(200);
      const result = await slow;
      clearInterval(timer);
      expect(result.closed).toBe(true);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('closes a connection whose body trickles in', async () => {
      let timer: NodeJS.Timeout | undefined;
      const slow = rawExchange((socket) => {
        socket.write(
          `POST ${CM_PATH} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
        );
        timer = setInterval(() => socket.writable && socket.write(' '), 200);
      });
      expect((await send({ method: 'GET', path: CM_PATH })).status).toBe(200);
      const result = await slow;
      clearInterval(timer);
      expect(result.closed).toBe(true);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  describe('20. HTTP framing', () => {
    const framed = (head: string, body = '') =>
      rawExchange((socket) => socket.write(`${head.replaceAll('\n', '\r\n')}\r\n${body}`));

    it.each([
      [
        'Content-Length and Transfer-Encoding',
        `POST ${CM_PATH} HTTP/1.1\nHost: x\nContent-Length: 5\nTransfer-Encoding: chunked\n`,
        '0\r\n\r\n',
      ],
      [
        'a bad chunk size',
        `POST ${CM_PATH} HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n`,
        'zz\r\nabc\r\n0\r\n\r\n',
      ],
      ['an obs-fold header', `GET ${CM_PATH} HTTP/1.1\nHost: x\nX-Folded: a\n b\n`, ''],
      [
        'two Content-Lengths',
        `POST ${CM_PATH} HTTP/1.1\nHost: x\nContent-Length: 1\nContent-Length: 2\n`,
        'ab',
      ],
      ['a space before the colon', `GET ${CM_PATH} HTTP/1.1\nHost : x\n`, ''],
    ])('refuses %s with a 400 and closes the connection', async (_what, head, body) => {
      const res = await framed(head.replace('Host: x\n', `Host: x\nAuthorization: Bearer ${token}\n`), body);
      expect(res.closed).toBe(true);
      expect(res.text).toMatch(/^HTTP\/1\.1 400 /);
      expect(res.text).toContain('"kind":"Status"');
    });
  });

  describe('21. metrics cardinality', () => {
    /** The series /metrics has now, by name and labels (values left out). */
    const series = async () => {
      const text = (await send({ method: 'GET', path: '/metrics' })).text;
      return new Set(
        text
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .map((l) => l.replace(/ [^ ]+$/, '')),
      );
    };

    it('adds no series for random paths and user agents', async () => {
      const before = await series();
      const sent: string[] = [];
      const random = () => {
        const token = Math.random().toString(36).slice(2, 10);
        sent.push(token);
        return token;
      };
      const paths = () => [
        `/api/v1/${random()}`,
        `/apis/${random()}.example.com/v1/${random()}`,
        `/api/v1/namespaces/${ns}/configmaps/${random()}/${random()}`,
        `/api/v1/namespaces/${ns}/${random()}/x`,
        `/${random()}`,
      ];
      for (let i = 0; i < 60; i++)
        await Promise.all(
          paths().map((path) =>
            send({
              method: 'GET',
              path,
              headers: { 'user-agent': `${random()}${'u'.repeat(8 * 1024)}` },
            }).then((r) => expect(r.status).toBe(404)),
          ),
        );
      const after = [...(await series())];
      // No label took a value from the 300 requests...
      expect(after.filter((l) => l.includes('uuuuuuuu') || sent.some((t) => l.includes(t)))).toEqual([]);
      // ...and the few series added meanwhile, if any, are the cluster's own traffic (its
      // controllers' first requests of a kind), not one per request.
      expect(after.filter((l) => !before.has(l)).length).toBeLessThan(60);
    });
  });

  describe('afterwards', () => {
    it('left the server answering and Object.prototype, Object and Array.prototype untouched', async () => {
      expect((await send({ method: 'GET', path: '/healthz', auth: null })).status).toBe(200);
      expect((await create(CM_PATH, cm('still-alive', { a: 'b' }))).status).toBe(201);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
      expect(Object.getOwnPropertyNames(Object).sort()).toEqual(objectBefore);
      expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeBefore);
      expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    });
  });
});
