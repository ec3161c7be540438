import { networkInterfaces } from 'node:os';

import { RoundRobinBalancer } from './balancer.js';
import { type PortalManager } from './netfilter/portal-manager.js';
import { type Portal } from './netfilter/portal-rules.js';
import { type ServicePortState } from './service-ports.js';
import { type EndpointPicker, type ProxySocket, type ProxySocketEvents } from './sockets/proxy-socket.js';
import { TcpProxySocket } from './sockets/tcp-proxy-socket.js';
import { UdpProxySocket } from './sockets/udp-proxy-socket.js';

/**
 * How pods' traffic to a ClusterIP reaches an endpoint: 'iptables' (upstream's default since
 * 1.2) DNATs it in the kernel; 'userspace' DNATs it to a proxy port and copies it in Node.
 */
export type ProxyMode = 'iptables' | 'userspace';

export interface ProxierOptions {
  /** Default 'iptables'. The host's traffic, node ports and load-balancer addresses stay userspace in both. */
  mode?: ProxyMode;
  /** Where proxy ports listen and portals DNAT to: the bridge gateway. */
  proxyAddress: string;
  /** Addresses node ports listen on (upstream --nodeport-addresses); default 127.0.0.1. */
  nodePortAddresses?: readonly string[];
  udpIdleTimeoutMs?: number;
  dialTimeoutsMs?: readonly number[];
  /** Shuffle endpoints on change (default true, as upstream); tests turn it off. */
  shuffle?: boolean;
  events?: ProxySocketEvents;
}

interface ExternalListener {
  /** The service port it serves. */
  owner: string;
  socket: ProxySocket;
}

interface Wanted {
  owner: string;
  protocol: 'TCP' | 'UDP';
  host: string;
  port: number;
  pick: EndpointPicker;
}

/**
 * The userspace proxier (pkg/proxy/userspace/proxier.go): per service port a proxy port and
 * its portal rules, plus listeners on the node ports and local load-balancer addresses, all
 * fed by one round-robin balancer. sync() takes the whole desired state; in userspace mode
 * endpoint changes only touch the balancer (no socket or rule work). In iptables mode (the
 * default) pods' ClusterIP traffic with ready endpoints is DNATed by the kernel instead
 * (pkg/proxy/iptables/proxier.go), so an endpoint change is also one restore of this
 * instance's chains; the proxy ports stay for the host, the ingress controller and fallbacks.
 * The balancer's retry of another endpoint after a failed dial exists only on proxy ports: in
 * the kernel path a dead-but-ready endpoint fails the connection, as upstream's iptables mode.
 */
export class Proxier {
  readonly balancer: RoundRobinBalancer;
  private readonly portalSockets = new Map<string, ProxySocket>();
  private readonly external = new Map<string, ExternalListener>();

  constructor(
    private readonly portals: PortalManager,
    private readonly o: ProxierOptions,
  ) {
    this.balancer = new RoundRobinBalancer({ shuffle: o.shuffle });
  }

  /** Service ports being proxied. */
  get servicePorts(): number {
    return this.portalSockets.size;
  }

  /** The proxy port of a service port (tests, the benchmark). */
  proxyPort(key: string): number | undefined {
    return this.portalSockets.get(key)?.port;
  }

  /**
   * Where a process on this host reaches a service port through the proxy (same balancing and
   * affinity as pods get): the proxy port on the proxy address. A process in this one (the
   * ingress controller) dials it directly, without a round trip through the nat table.
   */
  localAddressOf(key: string): { host: string; port: number } | undefined {
    const socket = this.portalSockets.get(key);
    return socket ? { host: this.o.proxyAddress, port: socket.port } : undefined;
  }

  /** Node-port and load-balancer listeners open now, as `host:port/PROTO`. */
  externalListeners(): string[] {
    return [...this.external.keys()].sort();
  }

  async sync(desired: readonly ServicePortState[]): Promise<void> {
    const byKey = new Map(desired.map((s) => [s.key, s]));
    const wanted = new Map<string, Wanted>();
    for (const s of desired) {
      const extKey = `${s.key}|external`;
      this.balancer.update(s.key, s.clusterEndpoints, s.affinityTimeoutSeconds);
      const separate = !sameEndpoints(s.clusterEndpoints, s.externalEndpoints);
      if (separate) this.balancer.update(extKey, s.externalEndpoints, s.affinityTimeoutSeconds);
      else this.balancer.remove(extKey);
      const pickExternal = this.picker(separate ? extKey : s.key);
      const addresses = [
        ...(s.nodePort
          ? (this.o.nodePortAddresses ?? ['127.0.0.1']).map((host) => ({ host, port: s.nodePort! }))
          : []),
        ...s.loadBalancerIPs.filter((ip) => isLocalAddress(ip)).map((host) => ({ host, port: s.port })),
      ];
      for (const a of addresses)
        wanted.set(`${a.host}:${a.port}/${s.protocol}`, {
          owner: s.key,
          protocol: s.protocol,
          ...a,
          pick: pickExternal,
        });
    }
    // Close first: a node port moving from one Service to another is free again before it is taken.
    for (const [listenKey, l] of this.external)
      if (wanted.get(listenKey)?.owner !== l.owner) {
        this.external.delete(listenKey);
        await l.socket.close();
      }
    for (const [key, socket] of this.portalSockets) {
      const protocol = byKey.get(key)?.protocol;
      if (protocol === socket.protocol) continue;
      this.portalSockets.delete(key);
      await socket.close();
      if (!protocol) this.balancer.remove(key);
    }
    for (const s of desired)
      if (!this.portalSockets.has(s.key))
        this.portalSockets.set(
          s.key,
          await this.open(s.protocol, this.o.proxyAddress, 0, this.picker(s.key)),
        );
    for (const [listenKey, w] of wanted) {
      const open = this.external.get(listenKey);
      if (open) {
        open.socket.setPicker(w.pick);
        continue;
      }
      try {
        this.external.set(listenKey, {
          owner: w.owner,
          socket: await this.open(w.protocol, w.host, w.port, w.pick),
        });
      } catch (e) {
        // Upstream logs "can't open port" and goes on; the next sync tries again.
        this.o.events?.onTrouble?.(`listening on ${listenKey} for ${w.owner}`, e as Error);
      }
    }
    await this.portals.sync(this.portalsOf(desired));
  }

  /** Closes every listener (the portal rules are the PortalManager's to remove). */
  async stop(): Promise<void> {
    const sockets = [...this.portalSockets.values(), ...[...this.external.values()].map((l) => l.socket)];
    this.portalSockets.clear();
    this.external.clear();
    await Promise.allSettled(sockets.map((s) => s.close()));
  }

  private portalsOf(desired: readonly ServicePortState[]): Portal[] {
    return desired.flatMap((s) => {
      const kernel = this.kernelRoute(s);
      return s.clusterIPs.map((clusterIP) => ({
        key: s.key,
        clusterIP,
        port: s.port,
        protocol: s.protocol,
        proxyPort: this.portalSockets.get(s.key)!.port,
        ...(kernel ? { kernel } : {}),
      }));
    });
  }

  /**
   * iptables mode: the kernel route for pods' traffic to this service port, or none when the
   * userspace portal must stay. It stays without endpoints (upstream's iptables mode REJECTs
   * there; the proxy port's socket resets the connection, the same answer), for a local backend
   * (a listener of this process: the proxy port is how pods reach it), and for a loopback
   * endpoint (PREROUTING DNAT to 127.0.0.0/8 is a martian unless route_localnet opens loopback).
   */
  private kernelRoute(s: ServicePortState): Portal['kernel'] {
    if ((this.o.mode ?? 'iptables') !== 'iptables') return undefined;
    if (s.localBackend || s.clusterEndpoints.length === 0) return undefined;
    if (s.clusterEndpoints.some((e) => e.ip.startsWith('127.'))) return undefined;
    return {
      endpoints: s.clusterEndpoints.map(({ ip, port }) => ({ ip, port })),
      ...(s.affinityTimeoutSeconds !== undefined ? { affinityTimeoutSeconds: s.affinityTimeoutSeconds } : {}),
    };
  }

  private picker(key: string): EndpointPicker {
    return (clientIP, reset) => this.balancer.next(key, clientIP, reset);
  }

  private open(
    protocol: 'TCP' | 'UDP',
    host: string,
    port: number,
    pick: EndpointPicker,
  ): Promise<ProxySocket> {
    const common = { host, port, pick, events: this.o.events };
    return protocol === 'TCP'
      ? TcpProxySocket.listen({ ...common, dialTimeoutsMs: this.o.dialTimeoutsMs })
      : UdpProxySocket.listen({ ...common, idleTimeoutMs: this.o.udpIdleTimeoutMs });
  }
}

function sameEndpoints(
  a: ServicePortState['clusterEndpoints'],
  b: ServicePortState['clusterEndpoints'],
): boolean {
  return a.length === b.length && a.every((e, i) => e.ip === b[i]!.ip && e.port === b[i]!.port);
}

/** Loopback, or an address of one of this host's interfaces. */
export function isLocalAddress(ip: string): boolean {
  if (ip.startsWith('127.')) return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === ip));
}
