import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type HostNetwork } from '../src/netfilter/host-network.js';
import { PortalManager } from '../src/netfilter/portal-manager.js';
import { Proxier } from '../src/proxier.js';
import { type ServicePortState } from '../src/service-ports.js';

/** No iptables here: these tests drive the proxy sockets directly; the Docker suite covers the rules. */
class NoHostNetwork implements HostNetwork {
  restores: string[] = [];
  async save(): Promise<string> {
    return '';
  }
  async restore(text: string): Promise<void> {
    this.restores.push(text);
  }
  async iptables(): Promise<void> {}
  async ip(): Promise<string> {
    return '';
  }
}

/** A TCP backend on loopback that answers each connection with its name, then closes. */
async function namedServer(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    s.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** What one TCP connection to host:port reads, or the error it ends with. */
function fetchTcp(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

function udpAsk(port: number, message: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply within 2 s'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(message, port, host);
  });
}

const portState = (
  o: Partial<ServicePortState> & Pick<ServicePortState, 'key' | 'clusterEndpoints'>,
): ServicePortState => ({
  namespace: 'ns',
  name: o.key.split('/')[1]!.split(':')[0]!,
  portName: '',
  protocol: 'TCP',
  clusterIPs: ['10.250.0.10'],
  port: 80,
  loadBalancerIPs: [],
  externalEndpoints: o.clusterEndpoints,
  ...o,
});

/**
 * The proxier's sockets on loopback with real TCP and UDP backends: round robin, a dead
 * endpoint skipped, no endpoints refused, UDP flows, node-port listeners opened and closed.
 */
describe('Proxier sockets on loopback', () => {
  const net = new NoHostNetwork();
  let proxier: Proxier;
  const backends: { server: Server; port: number }[] = [];
  let udpBackend: UdpSocket;
  let udpPort = 0;
  let deadPort = 0;
  // A node-port address of this suite's own on loopback: other suites' listeners never collide.
  const nodeAddress = `127.0.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;

  beforeAll(async () => {
    for (const name of ['a', 'b', 'c']) backends.push(await namedServer(name));
    const dead = await namedServer('dead');
    deadPort = dead.port;
    await new Promise<void>((r) => dead.server.close(() => r()));
    udpBackend = createSocket('udp4');
    udpBackend.on('message', (m, from) => udpBackend.send(`echo ${m.toString()}`, from.port, from.address));
    await new Promise<void>((r) => udpBackend.bind(0, '127.0.0.1', r));
    udpPort = udpBackend.address().port;
    const portals = new PortalManager(net, { proxyAddress: '127.0.0.1' });
    proxier = new Proxier(portals, {
      // The dial retry below is the proxy port's: iptables mode has none in the kernel path.
      mode: 'userspace',
      proxyAddress: '127.0.0.1',
      nodePortAddresses: [nodeAddress],
      shuffle: false,
      dialTimeoutsMs: [250, 250, 250],
    });
  });

  afterAll(async () => {
    await Promise.allSettled([
      proxier?.stop(),
      ...backends.map((b) => new Promise<void>((r) => b.server.close(() => r()))),
      new Promise<void>((r) => udpBackend.close(() => r())),
    ]);
  });

  it('spreads connections round robin over the endpoints, skipping one that refuses', async () => {
    await proxier.sync([
      portState({
        key: 'ns/web:',
        clusterEndpoints: [
          { ip: '127.0.0.1', port: backends[0]!.port },
          { ip: '127.0.0.1', port: deadPort },
          { ip: '127.0.0.1', port: backends[1]!.port },
          { ip: '127.0.0.1', port: backends[2]!.port },
        ],
      }),
    ]);
    const port = proxier.proxyPort('ns/web:')!;
    expect(port).toBeGreaterThan(0);
    expect(proxier.localAddressOf('ns/web:')).toEqual({ host: '127.0.0.1', port });
    expect(proxier.localAddressOf('ns/none:')).toBeUndefined();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await fetchTcp(port));
    // The dead endpoint's turn goes to the next one.
    expect(answers).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(net.restores.at(-1)).toContain(
      `-d 10.250.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/web:" -j DNAT --to-destination 127.0.0.1:${port}`,
    );
  });

  it('pins a client with ClientIP affinity', async () => {
    await proxier.sync([
      portState({
        key: 'ns/web:',
        affinityTimeoutSeconds: 60,
        clusterEndpoints: backends.map((b) => ({ ip: '127.0.0.1', port: b.port })),
      }),
    ]);
    const port = proxier.proxyPort('ns/web:')!;
    const answers = new Set<string>();
    for (let i = 0; i < 5; i++) answers.add(await fetchTcp(port));
    expect(answers.size).toBe(1);
  });

  it('resets connections to a service port without endpoints instead of leaving them hanging', async () => {
    await proxier.sync([portState({ key: 'ns/web:', clusterEndpoints: [] })]);
    await expect(fetchTcp(proxier.proxyPort('ns/web:')!)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('carries UDP both ways through a per-client flow', async () => {
    await proxier.sync([
      portState({
        key: 'ns/dns:dns',
        protocol: 'UDP',
        port: 53,
        clusterEndpoints: [{ ip: '127.0.0.1', port: udpPort }],
      }),
    ]);
    expect(proxier.proxyPort('ns/web:')).toBeUndefined();
    expect(await udpAsk(proxier.proxyPort('ns/dns:dns')!, 'hello')).toBe('echo hello');
  });

  it('passes a half-close on: a client that ends its side still gets the whole reply, byte for byte', async () => {
    // The backend answers only after the request ended: the reply is the request reversed.
    const reverser = createServer({ allowHalfOpen: true }, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(Buffer.concat(parts).reverse()));
    });
    await new Promise<void>((r) => reverser.listen(0, '127.0.0.1', r));
    backends.push({ server: reverser, port: (reverser.address() as { port: number }).port });
    await proxier.sync([
      portState({ key: 'ns/rev:', clusterEndpoints: [{ ip: '127.0.0.1', port: backends.at(-1)!.port }] }),
    ]);
    const request = Buffer.from(Array.from({ length: 4 << 20 }, (_, i) => i % 251));
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: proxier.proxyPort('ns/rev:')!, allowHalfOpen: true });
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
      s.end(request);
    });
    expect(reply.length).toBe(request.length);
    expect(reply.equals(Buffer.from(request).reverse())).toBe(true);
  });

  it('listens on a local load-balancer ingress address at the service port, and ignores addresses not of this host', async () => {
    const lbPort = 20000 + Math.floor(Math.random() * 5000);
    await proxier.sync([
      portState({
        key: 'ns/lb:',
        port: lbPort,
        loadBalancerIPs: [nodeAddress, '192.0.2.200'],
        clusterEndpoints: [{ ip: '127.0.0.1', port: backends[1]!.port }],
      }),
    ]);
    expect(proxier.externalListeners()).toEqual([`${nodeAddress}:${lbPort}/TCP`]);
    expect(await fetchTcp(lbPort, nodeAddress)).toBe('b');
  });

  it('listens on node ports (TCP and UDP) while the service port has one, and closes them after', async () => {
    const nodePort = 30000 + Math.floor(Math.random() * 2000);
    await proxier.sync([
      portState({
        key: 'ns/np:',
        nodePort,
        clusterEndpoints: [{ ip: '127.0.0.1', port: backends[0]!.port }],
      }),
      portState({
        key: 'ns/np:udp',
        protocol: 'UDP',
        nodePort,
        clusterEndpoints: [{ ip: '127.0.0.1', port: udpPort }],
      }),
    ]);
    expect(proxier.externalListeners()).toEqual([
      `${nodeAddress}:${nodePort}/TCP`,
      `${nodeAddress}:${nodePort}/UDP`,
    ]);
    expect(await fetchTcp(nodePort, nodeAddress)).toBe('a');
    expect(await udpAsk(nodePort, 'np', nodeAddress)).toBe('echo np');
    await proxier.sync([]);
    expect(proxier.externalListeners()).toEqual([]);
    await expect(fetchTcp(nodePort, nodeAddress)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

/**
 * Which ClusterIPs iptables mode gives to the kernel: the restore the proxier asks for, with
 * the proxy ports' sockets real (on loopback) and no iptables.
 */
describe('Proxier modes: what the container chain does with each service port', () => {
  const endpoints = [
    { ip: '172.31.0.5', port: 8080 },
    { ip: '172.31.0.6', port: 8080 },
  ];
  const states = [
    portState({ key: 'ns/web:', clusterIPs: ['10.250.0.20'], clusterEndpoints: endpoints }),
    portState({ key: 'ns/empty:', clusterIPs: ['10.250.0.21'], clusterEndpoints: [] }),
    portState({
      key: 'ns/dns:',
      clusterIPs: ['10.250.0.22'],
      clusterEndpoints: [{ ip: '172.31.0.1', port: 5353 }],
      localBackend: true,
    }),
    portState({
      key: 'ns/loop:',
      clusterIPs: ['10.250.0.23'],
      clusterEndpoints: [{ ip: '127.0.0.1', port: 6443 }],
    }),
  ];
  const started: Proxier[] = [];
  afterAll(async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
  });

  /** The container chain's rule for each ClusterIP: its target. */
  async function containerTargets(mode: 'iptables' | 'userspace' | undefined) {
    const net = new NoHostNetwork();
    const portals = new PortalManager(net, { instanceId: 'm1', proxyAddress: '127.0.0.1' });
    const proxier = new Proxier(portals, { proxyAddress: '127.0.0.1', ...(mode ? { mode } : {}) });
    started.push(proxier);
    await proxier.sync(states);
    const text = net.restores.at(-1)!;
    const targets: Record<string, string> = {};
    for (const line of text.split('\n'))
      if (line.startsWith(`-A ${portals.chains.container} `))
        targets[/-d (\S+)\/32/.exec(line)![1]!] = line.slice(line.indexOf(' -j ') + 4);
    return { targets, text, portals, proxier };
  }

  it('iptables (the default): the kernel for ready endpoints; the proxy port without them, for a local backend and a loopback endpoint', async () => {
    const { targets, text, portals, proxier } = await containerTargets(undefined);
    const svc = portals.chains.kernel.service('ns/web:', 'TCP');
    expect(targets['10.250.0.20']).toBe(svc);
    for (const [ip, key] of [
      ['10.250.0.21', 'ns/empty:'],
      ['10.250.0.22', 'ns/dns:'],
      ['10.250.0.23', 'ns/loop:'],
    ] as const)
      expect(targets[ip]).toBe(`DNAT --to-destination 127.0.0.1:${proxier.proxyPort(key)}`);
    expect(text).toContain('-j DNAT --to-destination 172.31.0.5:8080');
    expect(text).toContain('-j DNAT --to-destination 172.31.0.6:8080');
    // The host chain always goes to the proxy port.
    expect(text).toContain(
      `-A ${portals.chains.host} -d 10.250.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/web:" -j DNAT --to-destination 127.0.0.1:${proxier.proxyPort('ns/web:')}`,
    );
  });

  it('userspace: every service port to its proxy port, no service chains', async () => {
    const { targets, text, proxier } = await containerTargets('userspace');
    for (const s of states)
      expect(targets[s.clusterIPs[0]!]).toBe(`DNAT --to-destination 127.0.0.1:${proxier.proxyPort(s.key)}`);
    expect(text).not.toMatch(/WAKE-(SVC|SEP)-/);
  });
});
