import { isIPv4 } from 'node:net';

import { type ProxyMode } from '../../../proxy/src/proxier.js';
import { type ProxyConfig } from '../../../proxy/src/proxy.module.js';
import { runProxy } from '../../../proxy/src/run-proxy.js';
import { DEFAULT_SERVICE_CIDR } from '../../../api-server/src/services/service-allocator.js';

export type ProxyCommandOptions = Omit<ProxyConfig, 'connection'> & { kubeconfig: string };

/** `wake proxy`: the service proxy in this process until SIGTERM, which removes its rules. */
export function proxy(o: ProxyCommandOptions): Promise<number> {
  return runProxy(o);
}

export interface ProxyAddOnFlags {
  dnsPort?: number;
  clusterDomain?: string;
  ingressPort?: number;
  ingressTlsPort?: number;
  ingressAddress?: string;
  nodePortAddresses?: string[];
}

/**
 * The cluster DNS and the ingress controller `wake proxy` runs beside the proxy, from its
 * flags: each only when its port is given. The ingress controller listens where node ports
 * do unless told otherwise, and reports that address on the Ingresses it serves.
 */
export function proxyAddOns(f: ProxyAddOnFlags): Pick<ProxyConfig, 'clusterDns' | 'ingress'> {
  if (f.clusterDomain !== undefined && f.dnsPort === undefined)
    throw new Error('--cluster-domain needs --dns-port (the proxy serves DNS only when asked)');
  if (f.ingressTlsPort !== undefined && f.ingressPort === undefined)
    throw new Error('--ingress-tls-port needs --ingress-port');
  const host = f.ingressAddress ?? f.nodePortAddresses?.[0] ?? '127.0.0.1';
  if (!isIPv4(host)) throw new Error(`--ingress-address: want an IPv4 address, got ${JSON.stringify(host)}`);
  return {
    ...(f.dnsPort !== undefined ? { clusterDns: { port: f.dnsPort, clusterDomain: f.clusterDomain } } : {}),
    ...(f.ingressPort !== undefined
      ? {
          ingress: {
            listen: { host, port: f.ingressPort },
            ...(f.ingressTlsPort !== undefined ? { tlsListen: { host, port: f.ingressTlsPort } } : {}),
            statusAddress: host,
          },
        }
      : {}),
  };
}

/** `--nodeport-addresses a,b`: IPv4 addresses (upstream also takes CIDRs; Wake listens per address). */
export function parseNodePortAddresses(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const addresses = text
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of addresses)
    if (!isIPv4(a)) throw new Error(`--nodeport-addresses: want IPv4 addresses, got ${JSON.stringify(a)}`);
  return addresses;
}

/** `--proxy-mode iptables|userspace` (default iptables, as upstream's). */
export function parseProxyMode(text: string | undefined): ProxyMode | undefined {
  if (text === undefined) return undefined;
  if (text === 'iptables' || text === 'userspace') return text;
  throw new Error(`--proxy-mode: want iptables or userspace, got ${JSON.stringify(text)}`);
}

/** `--service-cluster-ip-range`: an IPv4 CIDR, or empty/"none" for no refusing rules. */
export function parseServiceCidr(text: string | undefined): string | undefined {
  if (text === undefined) return DEFAULT_SERVICE_CIDR;
  if (text === '' || text === 'none') return undefined;
  const [ip, bits] = text.split('/');
  if (!ip || !isIPv4(ip) || !/^\d+$/.test(bits ?? '') || Number(bits) > 32)
    throw new Error(
      `--service-cluster-ip-range: want an IPv4 CIDR such as 10.96.0.0/16, got ${JSON.stringify(text)}`,
    );
  return text;
}
