// The transport's retries against a scripted HTTP/2 peer on loopback: the API server cannot be
// made to refuse a stream or send GOAWAY past a request on demand, and these are the cases
// where a retry must (the request was never processed) or must not (it may have been) happen.
import { createSecureServer, constants, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ensureServingCertificate } from '../../../apps/api-server/src/auth/pki.js';
import { Http2Transport } from '../src/api/http2-transport.js';

type Script = (stream: ServerHttp2Stream, nth: number) => void;

describe('Http2Transport: what it sends again, and what it does not', () => {
  let dir: string;
  let server: Http2SecureServer;
  let caCert: string;
  let url: string;
  /** Per path: how the peer treats the nth stream for it, and the streams it answered. */
  const scripts = new Map<string, Script>();
  const seen = new Map<string, number>();
  const answered = new Map<string, number>();
  const transports: Http2Transport[] = [];
  const resets: string[] = [];
  const transport = () => {
    const t = new Http2Transport({ server: url, caCert, timeoutMs: 10_000, maxInFlight: 10 });
    transports.push(t);
    return t;
  };
  const answer = (stream: ServerHttp2Stream, path: string) => {
    answered.set(path, (answered.get(path) ?? 0) + 1);
    stream.respond({ ':status': 200 });
    stream.end('ok');
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-h2-transport-'));
    const pki = await ensureServingCertificate(dir);
    caCert = pki.caCert;
    server = createSecureServer({ key: pki.key, cert: pki.cert });
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      const nth = (seen.get(path) ?? 0) + 1;
      seen.set(path, nth);
      // The resets this peer sends come back to it as its streams' errors: they are the script.
      stream.on('error', (e: NodeJS.ErrnoException) => resets.push(e.code ?? e.message));
      // The body is read before anything is decided: the request was received whole.
      stream.resume();
      stream.once('end', () => (scripts.get(path) ?? ((s) => answer(s, path)))(stream, nth));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    url = `https://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const t of transports) t.close();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a write again that the server refused unprocessed (REFUSED_STREAM), and it is applied once', async () => {
    scripts.set('/refused', (stream, nth) =>
      nth === 1 ? stream.close(constants.NGHTTP2_REFUSED_STREAM) : answer(stream, '/refused'),
    );
    const r = await transport().send('POST', '/refused', { 'content-type': 'application/json' }, '{}');
    expect(r).toEqual({ status: 200, text: 'ok' });
    expect(seen.get('/refused')).toBe(2);
    expect(answered.get('/refused')).toBe(1);
  });

  it("goes on with a new connection after the server's GOAWAY, each write applied once", async () => {
    // The server answers the first write and then closes its connection gracefully (GOAWAY, as
    // the API server does at idle time and at shutdown). The second write, sent as the GOAWAY
    // comes, must go on a new connection: whether the transport saw the GOAWAY first, or sent
    // it on the old connection and had it refused, it is applied once.
    scripts.set('/gone', (stream, nth) => {
      answer(stream, '/gone');
      if (nth === 1) stream.session?.close();
    });
    const sessions = new Set<unknown>();
    const count = (session: unknown) => sessions.add(session);
    server.on('session', count);
    const t = transport();
    const write = () => t.send('POST', '/gone', { 'content-type': 'application/json' }, '{}');
    expect(await write()).toEqual({ status: 200, text: 'ok' });
    expect(await write()).toEqual({ status: 200, text: 'ok' });
    server.off('session', count);
    expect(answered.get('/gone')).toBe(2);
    expect(sessions.size).toBe(2);
  });

  it('does not send a write again that the server may have applied (reset after it took it), but does a read', async () => {
    scripts.set('/applied', (stream) => {
      answered.set('/applied', (answered.get('/applied') ?? 0) + 1);
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    const t = transport();
    const resetsBefore = resets.length;
    await expect(t.send('POST', '/applied', { 'content-type': 'application/json' }, '{}')).rejects.toThrow();
    expect(seen.get('/applied')).toBe(1);
    // A read is always safe to ask again (once): the second attempt is reset too, and fails.
    await expect(t.send('GET', '/applied', {})).rejects.toThrow();
    expect(seen.get('/applied')).toBe(3);
    expect(resets.slice(resetsBefore)).toEqual(Array(3).fill('ERR_HTTP2_STREAM_ERROR'));
  });
});
