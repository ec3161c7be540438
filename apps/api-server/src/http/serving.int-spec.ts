import { mkdtemp, rm } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, DEFAULT_CIPHERS } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ensureServingCertificate, type ServingCertificate } from '../auth/pki.js';
import { createApiHttpServer, servingCiphers } from './serving.js';

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

  /** The TLS 1.3 suite the listener picks for a client offering `ciphers` in that order. */
  function negotiated(ciphers: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: pki.caCert, ciphers }, () => {
        resolve(socket.getCipher().name);
        socket.destroy();
      });
      socket.on('error', reject);
    });
  }

  it("picks AES-128-GCM, as Go's server does, over a client's preference for AES-256-GCM", async () => {
    // Node's own clients list AES-256-GCM first: the test means something only while they do.
    expect(DEFAULT_CIPHERS.split(':')[0]).toBe('TLS_AES_256_GCM_SHA384');
    expect(await negotiated(DEFAULT_CIPHERS)).toBe('TLS_AES_128_GCM_SHA256');
    // A client without it still gets one it offers.
    expect(await negotiated('TLS_AES_256_GCM_SHA384')).toBe('TLS_AES_256_GCM_SHA384');
  });
});

describe('a listener that allows SHA-1 TLS signatures', () => {
  /** A TLS 1.2 handshake offering only SHA-1 signatures (busybox wget): the suite, or the error. */
  async function sha1OnlyHandshake(allowSha1TlsSignatures: boolean): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'wake-serving-sha1-'));
    const pki = await ensureServingCertificate(dir);
    const server = createApiHttpServer(
      {
        tls: { key: pki.key, cert: pki.cert },
        allowSha1TlsSignatures,
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 5_000,
        idleTimeoutMs: 5_000,
      },
      (_req, res) => res.end('ok'),
    );
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return await new Promise<string>((resolve) => {
        const socket = tlsConnect(
          {
            host: '127.0.0.1',
            port,
            ca: pki.caCert,
            maxVersion: 'TLSv1.2',
            sigalgs: 'ECDSA+SHA1:RSA+SHA1',
            ciphers: 'DEFAULT:@SECLEVEL=0',
          },
          () => {
            resolve(socket.getCipher().name);
            socket.destroy();
          },
        );
        socket.on('error', (e) => resolve(`refused: ${e.message}`));
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('takes a client offering only SHA-1 signatures, which the default listener refuses', async () => {
    expect(await sha1OnlyHandshake(false)).toMatch(/^refused: .*handshake failure/);
    expect(await sha1OnlyHandshake(true)).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
  });
});

describe('servingCiphers', () => {
  it("keeps Node's suites, TLS 1.3's reordered, and only lowers the security level for SHA-1", () => {
    const list = servingCiphers().split(':');
    expect(list.slice(0, 3)).toEqual([
      'TLS_AES_128_GCM_SHA256',
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_AES_256_GCM_SHA384',
    ]);
    expect([...list].sort()).toEqual(DEFAULT_CIPHERS.split(':').sort());
    expect(servingCiphers(true)).toBe(`${servingCiphers()}:@SECLEVEL=0`);
  });
});
