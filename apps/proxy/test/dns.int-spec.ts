import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { connect, createServer, type Server } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import packet from 'dns-packet';

import { waitFor } from '@app/dev-servers';
import { Registry } from '@app/metrics';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { setPodStatus, staticPod as createStaticPod } from '@app/testing/static-pods.js';

import {
  type RunningControllerManager,
  startControllerManager,
} from '../../controller-manager/src/run-controller-manager.js';
import { frameForTcp, splitTcpFrames } from '../src/dns/codec.js';
import { type RunningClusterDns, startClusterDns } from '../src/dns/index.js';

/** A node without an agent: its pods have the status the test writes. */
const STATIC_NODE = 'static-node';
const ZONE = 'cluster.local';

/**
 * A fake upstream resolver on loopback (no query leaves the machine): `*.upstream.test` A
 * questions get 192.0.2.7, `silent.upstream.test` gets no answer at all, anything else NXDOMAIN.
 */
async function startFakeUpstream(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const answer = (raw: Buffer): Buffer | undefined => {
    const q = packet.decode(raw);
    const name = q.questions![0].name.toLowerCase();
    seen.push(name);
    if (name === 'silent.upstream.test') return undefined;
    const known = name.endsWith('.upstream.test') && q.questions![0].type === 'A';
    return packet.encode({
      type: 'response',
      id: q.id,
      flags: known ? 0 : 3, // rcode NXDOMAIN
      questions: q.questions,
      answers: known ? [{ name: q.questions![0].name, type: 'A', ttl: 60, data: '192.0.2.7' }] : [],
    });
  };
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (msg, from) => {
    const reply = answer(msg);
    if (reply) udp.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const tcp: Server = createServer((conn) => {
    let buffered: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const { messages, rest } = splitTcpFrames(buffered);
      buffered = rest;
      for (const m of messages) {
        const reply = answer(m);
        if (reply) conn.write(frameForTcp(reply));
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    seen,
    close: async () => {
      await Promise.allSettled([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** One raw query over TCP, the way a resolver retries a truncated answer. */
async function queryOverTcp(
  port: number,
  name: string,
  type: packet.RecordType,
): Promise<packet.DecodedPacket> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    return await new Promise<packet.DecodedPacket>((resolve, reject) => {
      let buffered: Buffer = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('connect', () =>
        socket.write(
          frameForTcp(packet.encode({ type: 'query', id: 4242, questions: [{ name, type, class: 'IN' }] })),
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const { messages } = splitTcpFrames(buffered);
        if (messages.length) resolve(packet.decode(messages[0]));
      });
    });
  } finally {
    socket.destroy();
  }
}

/** One raw query over UDP (for what dns.Resolver does not expose: flags, rcode, TXT owner). */
async function queryOverUdp(
  port: number,
  name: string,
  type: packet.RecordType,
): Promise<packet.DecodedPacket> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<packet.DecodedPacket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP answer for ${name}`)), 5000);
      socket.on('message', (msg) => {
        clearTimeout(timer);
        resolve(packet.decode(msg));
      });
      socket.send(
        packet.encode({ type: 'query', id: 31337, questions: [{ name, type, class: 'IN' }] }),
        port,
        '127.0.0.1',
      );
    });
  } finally {
    socket.close();
  }
}

function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e.code,
  );
}

/**
 * Cluster DNS against a real API server, log and bus, with the real EndpointSlice controller:
 * queried over real UDP and TCP on loopback by Node's resolver (c-ares) and raw packets.
 */
describe('cluster DNS through the real API server and EndpointSlice controller', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  let server: RunningClusterDns | undefined;
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>> | undefined;
  let resolver: dns.Resolver;
  let udpPort = 0;
  let tcpPort = 0;
  const ns = 'dnsapp';
  const registry = new Registry();

  const staticPod = (name: string, ip: string, ready: boolean, spec: Record<string, unknown> = {}) =>
    createStaticPod(cluster, ns, {
      name,
      node: STATIC_NODE,
      ip,
      ready,
      labels: { app: 'db' },
      ports: [{ name: 'pg', containerPort: 5432 }],
      spec,
    });
  const setReady = (name: string, ip: string, ready: boolean) => setPodStatus(cluster, ns, name, ip, ready);
  /** Polls the resolver until `check` holds (c-ares does not cache, so each poll asks the server). */
  const eventually = <T>(what: string, ask: () => Promise<T>, check: (v: T) => boolean) =>
    waitFor(
      what,
      async () => {
        const v = await ask().catch(() => undefined);
        return v !== undefined && check(v) ? v : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

  beforeAll(async () => {
    cluster = await startApiCluster({ controllers: [] });
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await cluster.ok('POST', '/api/v1/nodes', {
      metadata: { name: STATIC_NODE },
      spec: { unschedulable: true },
    });
    cm = await startControllerManager({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['endpointslice'],
      backoffMs: [50, 1000],
      endpointSliceChangeDelayMs: 100,
    });
    upstream = await startFakeUpstream();
    server = await startClusterDns({
      // As the proxy's user, which serves it: the suite proves its roles are enough.
      connection: cluster.componentConnection('proxy'),
      natsUrl: cluster.natsUrl,
      listen: [{ host: '127.0.0.1', port: 0 }],
      upstreams: [{ host: '127.0.0.1', port: upstream.port }],
      upstreamTimeoutMs: 500,
      registry,
    });
    [{ udpPort, tcpPort }] = server.addresses;
    resolver = new dns.Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([`127.0.0.1:${udpPort}`]);
  });
  afterAll(async () => {
    await Promise.allSettled([server?.close(), cm?.close(), upstream?.close()]);
    await cluster?.close();
  });

  it('listens on UDP and TCP, and answers the bootstrap Services: kubernetes and kube-dns', async () => {
    expect(udpPort).toBeGreaterThan(0);
    expect(tcpPort).toBeGreaterThan(0);
    expect(await resolver.resolve4(`kubernetes.default.svc.${ZONE}`)).toEqual(['10.96.0.1']);
    expect(await resolver.resolve4(`kube-dns.kube-system.svc.${ZONE}`)).toEqual(['10.96.0.10']);
    // Names are case-insensitive.
    expect(await resolver.resolve4(`KUBE-DNS.Kube-System.SVC.Cluster.Local`)).toEqual(['10.96.0.10']);
    expect(await resolver.reverse('10.96.0.10')).toEqual([`kube-dns.kube-system.svc.${ZONE}`]);
    const srv = await resolver.resolveSrv(`_dns-tcp._tcp.kube-dns.kube-system.svc.${ZONE}`);
    expect(srv).toEqual([{ name: `kube-dns.kube-system.svc.${ZONE}`, port: 53, priority: 0, weight: 100 }]);
  });

  it('a new ClusterIP Service resolves by name, SRV and PTR within a bounded wait; deleted, it is NXDOMAIN', async () => {
    const svc = await cluster.ok<{ spec: { clusterIP: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/services`,
      {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    );
    const ip = svc.spec.clusterIP;
    expect(
      await eventually(
        'web to resolve',
        () => resolver.resolve4(`web.${ns}.svc.${ZONE}`),
        (a) => a.length > 0,
      ),
    ).toEqual([ip]);
    expect(await resolver.resolveSrv(`_http._tcp.web.${ns}.svc.${ZONE}`)).toEqual([
      { name: `web.${ns}.svc.${ZONE}`, port: 80, priority: 0, weight: 100 },
    ]);
    expect(await resolver.reverse(ip)).toEqual([`web.${ns}.svc.${ZONE}`]);
    // NODATA for another type; NXDOMAIN for a name that is not there.
    expect(await errorCode(resolver.resolve6(`web.${ns}.svc.${ZONE}`))).toBe('ENODATA');
    expect(await errorCode(resolver.resolve4(`missing.${ns}.svc.${ZONE}`))).toBe('ENOTFOUND');
    const nodata = await queryOverUdp(udpPort, `web.${ns}.svc.${ZONE}`, 'AAAA');
    expect(nodata).toMatchObject({ flag_aa: true, answers: [], authorities: [{ type: 'SOA', name: ZONE }] });
    // Over TCP, the same answer.
    const overTcp = await queryOverTcp(tcpPort, `web.${ns}.svc.${ZONE}`, 'A');
    expect(overTcp).toMatchObject({ id: 4242, flag_aa: true, answers: [{ type: 'A', data: ip, ttl: 5 }] });

    await cluster.ok('DELETE', `/api/v1/namespaces/${ns}/services/web`);
    expect(
      await eventually(
        'web to be gone',
        () => errorCode(resolver.resolve4(`web.${ns}.svc.${ZONE}`)),
        (code) => code === 'ENOTFOUND',
      ),
    ).toBe('ENOTFOUND');
  });

  it('a headless Service answers its ready endpoints, by hostname too, and follows an endpoint turning ready', async () => {
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'db' },
      spec: {
        clusterIP: 'None',
        selector: { app: 'db' },
        ports: [{ name: 'pg', port: 5432, targetPort: 'pg' }],
      },
    });
    await staticPod('db-0', '10.244.7.2', true, { hostname: 'db-0', subdomain: 'db' });
    await staticPod('db-1', '10.244.7.3', false);
    const name = `db.${ns}.svc.${ZONE}`;
    expect(
      await eventually(
        'db-0 to be listed',
        () => resolver.resolve4(name),
        (a) => a.length === 1,
      ),
    ).toEqual(['10.244.7.2']);
    expect(await resolver.resolve4(`db-0.${name}`)).toEqual(['10.244.7.2']);
    expect(await errorCode(resolver.resolve4(`10-244-7-3.${name}`))).toBe('ENOTFOUND');
    await setReady('db-1', '10.244.7.3', true);
    expect(
      (
        await eventually(
          'db-1 to turn ready',
          () => resolver.resolve4(name),
          (a) => a.length === 2,
        )
      ).sort(),
    ).toEqual(['10.244.7.2', '10.244.7.3']);
    expect(await resolver.resolve4(`10-244-7-3.${name}`)).toEqual(['10.244.7.3']);
    const srv = await resolver.resolveSrv(`_pg._tcp.${name}`);
    expect(srv.map((s) => [s.name, s.port]).sort()).toEqual([
      [`10-244-7-3.${name}`, 5432],
      [`db-0.${name}`, 5432],
    ]);
    expect(await resolver.reverse('10.244.7.2')).toEqual([`db-0.${name}`]);
  });

  it('an answer too big for UDP is truncated with TC, and the resolver gets all of it over TCP', async () => {
    // A selectorless headless Service with a hand-written EndpointSlice of 60 addresses.
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'big' },
      spec: { clusterIP: 'None', ports: [{ port: 80 }] },
    });
    const addresses = Array.from({ length: 60 }, (_, i) => `10.244.9.${i + 1}`);
    await cluster.ok('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: 'big-manual', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    const name = `big.${ns}.svc.${ZONE}`;
    const all = await eventually(
      'big to list 60',
      () => resolver.resolve4(name),
      (a) => a.length === 60,
    );
    expect(all.sort()).toEqual([...addresses].sort());
    const udp = await queryOverUdp(udpPort, name, 'A');
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers!.length).toBeLessThan(60);
    expect((await queryOverTcp(tcpPort, name, 'A')).answers).toHaveLength(60);
  });

  it('an ExternalName Service is a CNAME, its target resolved upstream', async () => {
    await cluster.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'ext' },
      spec: { type: 'ExternalName', externalName: 'db.upstream.test' },
    });
    const name = `ext.${ns}.svc.${ZONE}`;
    expect(
      await eventually(
        'ext to resolve',
        () => resolver.resolve4(name),
        (a) => a.length > 0,
      ),
    ).toEqual(['192.0.2.7']);
    expect(await resolver.resolveCname(name)).toEqual(['db.upstream.test']);
  });

  it('answers pod names, the schema version and the zone SOA', async () => {
    expect(await resolver.resolve4(`10-244-7-9.${ns}.pod.${ZONE}`)).toEqual(['10.244.7.9']);
    expect(await resolver.resolveTxt(`dns-version.${ZONE}`)).toEqual([['1.1.0']]);
    const soa = await resolver.resolveSoa(ZONE);
    expect(soa).toMatchObject({ nsname: `ns.dns.${ZONE}`, hostmaster: `hostmaster.${ZONE}`, minttl: 5 });
  });

  it('forwards other names to the upstream, over UDP and TCP, and SERVFAILs when it does not answer', async () => {
    expect(await resolver.resolve4('www.upstream.test')).toEqual(['192.0.2.7']);
    expect(await errorCode(resolver.resolve4('nothing.example.test'))).toBe('ENOTFOUND');
    const overTcp = await queryOverTcp(tcpPort, 'tcp.upstream.test', 'A');
    expect(overTcp.answers).toMatchObject([{ data: '192.0.2.7' }]);
    expect(upstream!.seen).toEqual(expect.arrayContaining(['www.upstream.test', 'tcp.upstream.test']));
    const silent = await queryOverUdp(udpPort, 'silent.upstream.test', 'A');
    expect((silent as unknown as { rcode: string }).rcode).toBe('SERVFAIL');
  });

  it('counts requests and responses under CoreDNS’ metric names', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/^coredns_dns_requests_total\{proto="udp",type="A"\} [1-9]\d*$/m);
    expect(text).toMatch(/^coredns_dns_requests_total\{proto="tcp",type="A"\} [1-9]\d*$/m);
    expect(text).toMatch(/^coredns_dns_responses_total\{rcode="NXDOMAIN"\} [1-9]\d*$/m);
    expect(text).toMatch(/^coredns_dns_responses_total\{rcode="SERVFAIL"\} [1-9]\d*$/m);
    expect(text).toMatch(/^coredns_forward_responses_total\{rcode="NOERROR"\} [1-9]\d*$/m);
  });
});
