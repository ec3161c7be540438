import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';

import {
  measureConnectionRate,
  measureRoundTrips,
  measureThroughput,
  probeWho,
  roundRobin,
  type Address,
} from './tcp-measure.js';

/** Servers on 127.0.0.1 only, as the bench's backends do (see proxy-target-worker.ts). */
function listen(handler: (s: Socket) => void): Promise<{ server: Server; at: Address }> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, at: { host: '127.0.0.1', port: (server.address() as { port: number }).port } }),
    );
  });
}

describe('the proxy bench’s TCP measurements against loopback servers', () => {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let echo: Address;
  let bulk: Address;
  let who: Address;
  let closed: Address;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  beforeAll(async () => {
    const e = await listen((s) => {
      track(s);
      s.pipe(s);
    });
    const chunk = Buffer.alloc(64 * 1024);
    const b = await listen((s) => {
      track(s);
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
      };
      s.on('drain', pump);
      pump();
    });
    const w = await listen((s) => {
      track(s);
      s.end('backend-1\n');
    });
    // A port that accepts and closes at once: a reply that never comes.
    const c = await listen((s) => {
      track(s);
      s.destroy();
    });
    servers.push(e.server, b.server, w.server, c.server);
    [echo, bulk, who, closed] = [e.at, b.at, w.at, c.at];
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.allSettled(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('roundRobin cycles over the addresses in order', () => {
    const next = roundRobin([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect([next(), next(), next()].map((a) => a.host)).toEqual(['a', 'b', 'a']);
  });

  it('counts every round trip on one persistent connection, bounded by the request count', async () => {
    const r = await measureRoundTrips(() => echo, {
      requests: 50,
      seconds: 10,
      size: 64,
      newConnectionEach: false,
    });
    expect(r.count).toBe(50);
    expect(r.latencyMs.count).toBe(50);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
  });

  it('opens a new connection for each round trip when asked', async () => {
    let accepted = 0;
    const counting = await listen((s) => {
      accepted++;
      track(s);
      s.pipe(s);
    });
    servers.push(counting.server);
    const r = await measureRoundTrips(() => counting.at, {
      requests: 20,
      seconds: 10,
      size: 64,
      newConnectionEach: true,
    });
    expect(r.count).toBe(20);
    expect(accepted).toBe(20);
  });

  it('stops new connections at maxConnections and reports a rate over the elapsed time', async () => {
    const r = await measureConnectionRate(() => echo, { concurrency: 4, seconds: 10, maxConnections: 40 });
    expect(r.connections).toBe(40);
    expect(r.errors).toBe(0);
    expect(r.perSecond).toBeCloseTo(40 / r.seconds, 6);
  });

  it('counts failed round trips as errors, with the first message', async () => {
    const r = await measureConnectionRate(() => closed, { concurrency: 2, seconds: 10, maxConnections: 6 });
    expect(r.connections).toBe(0);
    expect(r.errors).toBe(6);
    expect(r.firstError).toMatch(/ended after 0 of 64 reply bytes|ECONNRESET/);
  });

  it('measures bulk bytes only inside the counted window', async () => {
    const r = await measureThroughput(() => bulk, { connections: 2, seconds: 0.3, warmupSeconds: 0.1 });
    expect(r.connections).toBe(2);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.seconds).toBeGreaterThanOrEqual(0.29);
    expect(r.megabytesPerSecond).toBeCloseTo(r.bytes / r.seconds / 1e6, 6);
  });

  it('fails a bulk measurement whose connections close early', async () => {
    await expect(
      measureThroughput(() => closed, { connections: 1, seconds: 0.2, warmupSeconds: 0.05 }),
    ).rejects.toThrow(/closed before the measurement ended/);
  });

  it('probeWho returns the endpoint’s answer, and names the address when nothing listens', async () => {
    expect(await probeWho(who)).toBe('backend-1');
    const gone = await listen(() => undefined);
    await new Promise((r) => gone.server.close(r));
    await expect(probeWho(gone.at)).rejects.toThrow(`${gone.at.host}:${gone.at.port}`);
  });
});
