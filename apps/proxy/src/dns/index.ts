import { createLogger, type Logger } from '@app/logging';
import { type Registry } from '@app/metrics';

import { type InformerSource, openInformers, type OpenedInformers } from '../informer-source.js';
import { DnsMetrics } from './dns-metrics.js';
import { type BoundAddress, DnsSockets, type ListenAddress } from './dns-server.js';
import { InformerClusterView } from './informer-view.js';
import { ClusterZone } from './records.js';
import { DnsResolver } from './resolver.js';
import { type Forwarder, hostNameservers, UpstreamForwarder, type UpstreamServer } from './upstream.js';
import { DEFAULT_CLUSTER_DOMAIN } from '../../../node-agent/src/config/pod-dns.js';

export { type BoundAddress, type ListenAddress } from './dns-server.js';
export { type UpstreamServer } from './upstream.js';

/** CoreDNS' kubernetes plugin default TTL. */
export const DEFAULT_DNS_TTL_SECONDS = 5;
// The node agents' default (--cluster-domain): pods search the zone this server answers.
export { DEFAULT_CLUSTER_DOMAIN };

/** Informers: the proxy process's shared ones, or (alone) a connection to open its own over. */
export type ClusterDnsOptions = InformerSource & ClusterDnsSettings;

export interface ClusterDnsSettings {
  /** Where to serve, UDP and TCP on each (port 0: a free one, reported in `addresses`). */
  listen: ListenAddress[];
  /** Default `cluster.local` (the kubelet's --cluster-domain must agree). */
  clusterDomain?: string;
  /** Resolvers for names outside the cluster; default the host's /etc/resolv.conf nameservers. */
  upstreams?: UpstreamServer[];
  /** How long one upstream has to answer before the next is tried (default 2 s). */
  upstreamTimeoutMs?: number;
  /** TTL of answers in seconds (default 5). */
  ttl?: number;
  /** Replaces the upstream forwarder (tests). */
  forwarder?: Forwarder;
  /** Counts requests and responses here under CoreDNS' metric names (the proxy's /metrics). */
  registry?: Registry;
  logger?: Logger;
}

export interface RunningClusterDns {
  addresses: BoundAddress[];
  close(): Promise<void>;
}

/**
 * Wake's cluster DNS (the CoreDNS role in a kubeadm cluster): answers the cluster zone from
 * informers and forwards everything else. Resolves once the informers have synced and every
 * socket listens, so the first answer is already a true one.
 */
export async function startClusterDns(o: ClusterDnsOptions): Promise<RunningClusterDns> {
  const log = o.logger ?? createLogger('cluster-dns');
  const trouble = (what: string, e: Error) => log.warn({ err: e }, `cluster DNS: ${what}`);
  let opened: OpenedInformers | undefined;
  let sockets: DnsSockets | undefined;
  const close = async () => {
    await sockets?.close();
    await opened?.close();
  };
  try {
    const upstreams = o.upstreams ?? (await hostNameservers());
    const forwarder = o.forwarder ?? new UpstreamForwarder(upstreams, o.upstreamTimeoutMs ?? 2000);
    opened = await openInformers(o, {
      userAgent: 'wake-proxy/cluster-dns',
      onTrouble: trouble,
    });
    const synced = new InformerClusterView(opened.informers);
    await synced.start();
    const metrics = o.registry ? new DnsMetrics(o.registry) : undefined;
    const domain = o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const ttl = o.ttl ?? DEFAULT_DNS_TTL_SECONDS;
    // One zone over the live view: it keeps nothing but its options, the serial read per SOA.
    const zone = new ClusterZone(synced, { domain, ttl, serial: () => synced.modified });
    const resolver = new DnsResolver(() => zone, forwarder, {
      onTrouble: trouble,
      ...(metrics ? { onAnswered: metrics.answered.bind(metrics) } : {}),
    });
    sockets = new DnsSockets((query, transport) => resolver.handle(query, transport), {
      onTrouble: trouble,
    });
    const addresses = await sockets.listen(o.listen);
    log.info({ addresses, domain, upstreams: o.forwarder ? 'custom' : upstreams }, 'cluster DNS serving');
    return { addresses, close };
  } catch (e) {
    await close();
    throw new Error(`cluster DNS failed to start: ${(e as Error).message}`, { cause: e });
  }
}
