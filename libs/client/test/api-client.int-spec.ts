import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { type StoredObject } from '@app/event-store';

import { ApiClient, ApiError } from '../src/api/api-client.js';
import { retryOnConflict } from '../src/api/retry-on-conflict.js';

/**
 * A loopback TCP relay to the API server that the test can break: `blackhole` stops carrying
 * bytes on the connections it has (a half-open connection, as after a dead peer or a dropped
 * route; new connections are carried), `cut` closes them.
 */
class BreakableRelay {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  port = 0;
  accepted = 0;

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.accepted++;
      const upstream = connect(target.port, target.host);
      const pair = { client, upstream, dead: false };
      this.pairs.add(pair);
      client.on('data', (b) => pair.dead || upstream.write(b));
      upstream.on('data', (b) => pair.dead || client.write(b));
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  blackhole(): void {
    for (const pair of this.pairs) pair.dead = true;
  }

  cut(): void {
    for (const pair of this.pairs) pair.client.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('ApiClient: every request on one HTTP/2 connection that survives a dead peer', () => {
  let c: ApiCluster;
  let relay: BreakableRelay;
  const ns = 'client-h2';
  const clients: ApiClient[] = [];
  const client = (o: { timeoutMs?: number; maxInFlight?: number } = {}, direct = false) => {
    const server = direct ? c.server.url : `https://127.0.0.1:${relay.port}`;
    const api = new ApiClient({ ...c.connection, server }, { userAgent: 'api-client-test', ...o });
    clients.push(api);
    return api;
  };

  beforeAll(async () => {
    c = await startApiCluster({ controllers: [] });
    await c.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const { hostname, port } = new URL(c.server.url);
    relay = new BreakableRelay({ host: hostname, port: Number(port) });
    await relay.start();
  });
  afterAll(async () => {
    for (const api of clients) api.close();
    await relay?.close();
    await c?.close();
  });

  it('sends many requests at once over a single connection, holding back past maxInFlight', async () => {
    const api = client({ maxInFlight: 8 });
    const before = relay.accepted;
    const names = Array.from({ length: 60 }, (_, i) => `cm-${i}`);
    await Promise.all(
      names.map((name) => api.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name } })),
    );
    expect(relay.accepted - before).toBe(1);
    const list = await api.list<{ metadata: { name: string } }>(
      `/api/v1/namespaces/${ns}/configmaps`,
      {},
      25,
    );
    expect(list.items.map((i) => i.metadata.name)).toEqual(expect.arrayContaining(names));
    expect(Number(list.resourceVersion)).toBeGreaterThan(0);
  });

  it("turns the server's Status into ApiError", async () => {
    const api = client({}, true);
    const missing = api.get(`/api/v1/namespaces/${ns}/configmaps/none`);
    await expect(missing).rejects.toBeInstanceOf(ApiError);
    await expect(missing).rejects.toMatchObject({ code: 404, reason: 'NotFound' });
    const conflict = api.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm-0' } });
    await expect(conflict).rejects.toMatchObject({ code: 409, reason: 'AlreadyExists' });
  });

  it('retryOnConflict: a stale read-modify-write gets the real 409, reads again and writes on the object as it is now', async () => {
    const api = client({}, true);
    const path = `/api/v1/namespaces/${ns}/configmaps/retried`;
    type ConfigMap = StoredObject & { data?: Record<string, string> };
    const stale = await api.create<ConfigMap>(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'retried' },
      data: { a: '1' },
    });
    // Another writer gets in between the read and the write.
    await api.update<ConfigMap>(path, { ...stale, data: { a: '1', b: '2' } });
    const writtenOn: string[] = [];
    const label = (cm: ConfigMap) => {
      writtenOn.push(String(cm.metadata.resourceVersion));
      return api.update<ConfigMap>(path, { ...cm, metadata: { ...cm.metadata, labels: { retried: 'yes' } } });
    };
    const result = await retryOnConflict(stale, () => api.get<ConfigMap>(path), label);
    expect(writtenOn).toHaveLength(2);
    expect(writtenOn[0]).toBe(stale.metadata.resourceVersion);
    expect(result.data).toEqual({ a: '1', b: '2' });
    expect(result.metadata.labels).toEqual({ retried: 'yes' });
    // Out of attempts, the caller gets the server's Conflict itself.
    await expect(
      retryOnConflict(
        stale,
        () => api.get<ConfigMap>(path),
        (cm) => api.update<ConfigMap>(path, cm),
        1,
      ),
    ).rejects.toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('opens a new connection after the old one closes', async () => {
    const api = client();
    await api.get(`/api/v1/namespaces/${ns}`);
    const before = relay.accepted;
    relay.cut();
    await expect(api.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
    expect(relay.accepted - before).toBe(1);
  });

  it('gives up on a connection that stops answering, and the next request gets a new one', async () => {
    const api = client({ timeoutMs: 500 });
    await api.get(`/api/v1/namespaces/${ns}`);
    const before = relay.accepted;
    relay.blackhole();
    await expect(api.get(`/api/v1/namespaces/${ns}`)).rejects.toThrow(/no answer within 500 ms/);
    // The unanswered request had the connection pinged; the ping goes unanswered too, and the
    // connection is closed, so a later request does not wait on the dead one.
    let answered: unknown;
    for (let i = 0; i < 40 && !answered; i++) {
      answered = await api.get(`/api/v1/namespaces/${ns}`).catch(() => undefined);
      if (!answered) await new Promise((r) => setTimeout(r, 250));
    }
    expect(answered).toMatchObject({ metadata: { name: ns } });
    expect(relay.accepted - before).toBe(1);
  });
});
