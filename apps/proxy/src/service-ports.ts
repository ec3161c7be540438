import { isIPv4 } from 'node:net';

import { type EndpointSlice, type Service } from './api-types.js';

export type Protocol = 'TCP' | 'UDP';

/** One backend of a service port: where the proxy dials. */
export interface Endpoint {
  ip: string;
  port: number;
  nodeName?: string;
}

/** A local listener standing in for a Service port's endpoints (an in-process DNS server, say). */
export interface LocalBackend {
  host: string;
  port: number;
}

/**
 * Services whose ports go to listeners of this process instead of their EndpointSlices:
 * `namespace/name` → port name (or the port number as a string, for unnamed ports) → backend.
 * The integrator points `kube-system/kube-dns` at the in-process DNS server this way.
 */
export type LocalBackends = Readonly<Record<string, Readonly<Record<string, LocalBackend>>>>;

/**
 * What the proxy serves for one port of one Service: upstream's ServicePortName
 * (`namespace/name:port`) with its addresses, affinity and chosen endpoints.
 */
export interface ServicePortState {
  /** `namespace/name:portName` (portName empty for an unnamed port), the balancer's key. */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** IPv4 ClusterIPs (the proxy's rules are iptables, not ip6tables). */
  clusterIPs: string[];
  port: number;
  /** NodePort and LoadBalancer Services: the node port. */
  nodePort?: number;
  /** type LoadBalancer: status.loadBalancer.ingress[].ip (which of them are local is the proxier's call). */
  loadBalancerIPs: string[];
  /** sessionAffinity ClientIP: how long a client keeps its endpoint since its last connection. */
  affinityTimeoutSeconds?: number;
  /** Its endpoint is a listener of this process (LocalBackends), reached only through the proxy port. */
  localBackend?: true;
  /** Endpoints for traffic to the ClusterIP (internalTrafficPolicy applied). */
  clusterEndpoints: Endpoint[];
  /** Endpoints for traffic to the NodePort and load-balancer addresses (externalTrafficPolicy applied). */
  externalEndpoints: Endpoint[];
}

/** Upstream's default sessionAffinityConfig.clientIP.timeoutSeconds (3 h). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

export interface DesiredStateOptions {
  /** This node, for the Local traffic policies (endpoints on this node only). */
  nodeName?: string;
  localBackends?: LocalBackends;
}

/** One endpoint of a slice with upstream's reading of its conditions (pkg/proxy/endpointslicecache.go). */
interface EndpointInfo extends Endpoint {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * The service ports the proxy serves, from the Services and EndpointSlices it knows. Pure, so
 * every rule of it is unit-tested: headless and ExternalName Services get nothing (DNS serves
 * them); slices are joined to a service port by port name and protocol, as upstream's
 * endpointslicecache does; IPv4 only.
 */
export function desiredServicePorts(
  services: Iterable<Service>,
  slicesOf: (namespace: string, name: string) => readonly EndpointSlice[],
  o: DesiredStateOptions = {},
): ServicePortState[] {
  const result: ServicePortState[] = [];
  for (const service of services) {
    const spec = service.spec;
    if (!spec || spec.type === 'ExternalName') continue;
    const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP ?? '']).filter((ip) =>
      isIPv4(ip),
    );
    if (clusterIPs.length === 0) continue; // headless (None) or not yet allocated
    const namespace = service.metadata.namespace ?? '';
    const name = service.metadata.name ?? '';
    const slices = slicesOf(namespace, name);
    const local = o.localBackends?.[`${namespace}/${name}`];
    const affinityTimeoutSeconds =
      spec.sessionAffinity === 'ClientIP'
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        : undefined;
    const exposed = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const loadBalancerIPs =
      spec.type === 'LoadBalancer'
        ? (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => isIPv4(ip))
        : [];
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as string;
      if (protocol !== 'TCP' && protocol !== 'UDP') continue; // SCTP: not proxied
      const portName = p.name ?? '';
      const backend = local?.[portName || String(p.port)];
      const all = backend
        ? [{ ip: backend.host, port: backend.port, ready: true, serving: true, terminating: false }]
        : endpointsOf(slices, portName, protocol);
      result.push({
        key: `${namespace}/${name}:${portName}`,
        namespace,
        name,
        portName,
        protocol,
        clusterIPs,
        port: p.port,
        ...(exposed && p.nodePort ? { nodePort: p.nodePort } : {}),
        loadBalancerIPs,
        ...(affinityTimeoutSeconds !== undefined ? { affinityTimeoutSeconds } : {}),
        ...(backend ? { localBackend: true as const } : {}),
        clusterEndpoints: usable(all, spec.internalTrafficPolicy === 'Local' && !backend, o.nodeName),
        externalEndpoints: usable(all, spec.externalTrafficPolicy === 'Local' && !backend, o.nodeName),
      });
    }
  }
  return result.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The endpoints of the slices for one service port, deduplicated by address and port. */
function endpointsOf(slices: readonly EndpointSlice[], portName: string, protocol: string): EndpointInfo[] {
  const byAddress = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find(
      (sp) => (sp.name ?? '') === portName && (sp.protocol ?? 'TCP') === protocol,
    );
    if (port?.port === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0]; // upstream uses the first address of an endpoint
      if (!ip) continue;
      const c = e.conditions ?? {};
      // endpointslicecache.go: a missing condition means ready/serving; terminating only when said.
      const ready = c.ready !== false;
      const info: EndpointInfo = {
        ip,
        port: port.port,
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating === true,
      };
      byAddress.set(`${ip}:${port.port}`, info);
    }
  }
  return [...byAddress.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

/**
 * The endpoints traffic may go to (pkg/proxy/topology.go CategorizeEndpoints, without topology
 * hints): the ready ones, limited to this node under a Local policy; when none is ready, the
 * serving ones that are terminating, so connections drain to pods still able to answer.
 */
function usable(all: EndpointInfo[], localOnly: boolean, nodeName: string | undefined): Endpoint[] {
  const candidates = localOnly ? all.filter((e) => e.nodeName !== undefined && e.nodeName === nodeName) : all;
  const ready = candidates.filter((e) => e.ready && !e.terminating);
  const chosen = ready.length ? ready : candidates.filter((e) => e.serving && e.terminating);
  return chosen.map(({ ip, port, nodeName: n }) => ({ ip, port, ...(n ? { nodeName: n } : {}) }));
}
