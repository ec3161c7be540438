import { mkdtemp, rm } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ensureServingCertificate, type ServingCertificate } from '../auth/pki.js';
import { createApiHttpServer } from './serving.js';

/**
 * Whether TCP_NODELAY was asked for on `socket`. Node has no getsockopt; it keeps the last
 * setNoDelay() under a private symbol, which this finds by its description (and fails loudly
 * if a Node release renames it, rather than passing).
 */
function noDelayOf(socket: Socket): boolean | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  if (!key)
    throw new Error("this Node keeps no 'kSetNoDelay' on its sockets: find another way to read TCP_NODELAY");
  return (socket as unknown as Record<symbol, boolean | undefined>)[key];
}

describe('the API server listener', () => {
  let dir: string;
  let pki: ServingCertificate;
  let server: ReturnType<typeof createApiHttpServer>;
  let port: number;
  /** Every TCP connection the listener accepted, as accepted (before TLS). */
  const accepted: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-serving-'));
    pki = await ensureServingCertificate(dir);
    server = createApiHttpServer(
      {
        tls: { key: pki.key, cert: pki.cert },
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 5_000,
        idleTimeoutMs: 5_000,
      },
      (_req, res) => res.end('ok'),
    );
    server.on('connection', (s: Socket) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('turns off Nagle on HTTP/1.1 connections, as on HTTP/2 ones: a watch line is not held for an ACK', async () => {
    const before = accepted.length;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port, ca: pki.caCert, ALPNProtocols: ['http/1.1'] },
        () => {
          expect(socket.alpnProtocol).toBe('http/1.1');
          socket.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
        },
      );
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (got += d));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(accepted.length).toBe(before + 1);
    expect(noDelayOf(accepted[before])).toBe(true);
  });

  it('still serves HTTP/2 on a connection whose Nagle is off', async () => {
    const before = accepted.length;
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: pki.caCert });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let got = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (got += d));
        stream.on('end', () => resolve(got));
        stream.on('error', reject);
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(body).toBe('ok');
      expect(noDelayOf(accepted[before])).toBe(true);
    } finally {
      session.close();
    }
  });
});
