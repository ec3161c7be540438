import { readFile } from 'node:fs/promises';

import { type Pod } from '../api-types.js';
import { type SandboxDns } from '../runtime/index.js';

/**
 * A pod's resolver configuration as the kubelet computes it (pkg/kubelet/network/dns/dns.go
 * `GetPodDNS`), which the engine writes into the sandbox's /etc/resolv.conf. The search-list
 * expansion itself is the pod's resolver's; the cluster DNS server only answers FQDNs.
 */

/** Nameservers, search paths and options: a resolv.conf's content, the host's or a sandbox's. */
export type DnsConfig = SandboxDns;

export interface PodDnsSettings {
  /** --cluster-dns: the cluster DNS server addresses (empty: none configured). */
  clusterDNS: readonly string[];
  /** --cluster-domain (empty: pods get no cluster search domains, as upstream). */
  clusterDomain: string;
  /** The host's resolver configuration (--resolv-conf, default /etc/resolv.conf). */
  host: DnsConfig;
}

export interface DnsWarning {
  reason: string;
  message: string;
}

export interface PodDns {
  /** The sandbox's resolver settings; undefined leaves the engine's default (the host's resolv.conf). */
  config?: DnsConfig;
  /** Events the kubelet records about the pod (MissingClusterDNS, DNSConfigForming). */
  warnings: DnsWarning[];
}

/**
 * The kubelet's --cluster-domain default in kubeadm clusters; the cluster DNS server's zone
 * must be the same.
 */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** validation.MaxDNSNameservers, MaxDNSSearchPaths and MaxDNSSearchListChars. */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** The kubelet's defaultDNSOptions for ClusterFirst pods. */
const CLUSTER_FIRST_OPTIONS = ['ndots:5'];

/** parseResolvConf: nameservers, the last search (or domain) line, options. */
export function parseResolvConf(text: string): DnsConfig {
  const config: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...fields] = line.split(/\s+/);
    if (keyword === 'nameserver' && fields[0]) config.servers.push(fields[0]);
    // As glibc: the last `search` or `domain` line wins.
    else if (keyword === 'search' || keyword === 'domain')
      config.searches = fields.filter((f) => f !== '.').map((f) => f.replace(/\.$/, ''));
    else if (keyword === 'options') config.options.push(...fields);
  }
  return config;
}

/** The host's resolver configuration (the kubelet's --resolv-conf); a missing file is an empty one. */
export async function readHostResolvConf(path = '/etc/resolv.conf'): Promise<DnsConfig> {
  try {
    return parseResolvConf(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { servers: [], searches: [], options: [] };
    throw new Error(`reading the host resolver configuration ${path}: ${(e as Error).message}`, { cause: e });
  }
}

type DnsType = 'none' | 'cluster' | 'host';

/** getPodDNSType. */
function podDnsType(pod: Pod): DnsType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  switch (policy) {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'Default':
      return 'host';
    default:
      // ClusterFirst; a host-network pod falls back to Default.
      return pod.spec?.hostNetwork ? 'host' : 'cluster';
  }
}

function omitDuplicates(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * Docker skips loopback nameservers of the host's file (they are unreachable from a pod's
 * network namespace): keep to that when the host's servers are written out explicitly.
 */
function reachableFromPods(servers: readonly string[]): string[] {
  return servers.filter((s) => !/^127\./.test(s) && s !== '::1');
}

/** mergeDNSOptions: the pod's options override the existing ones of the same name. */
function mergeOptions(
  existing: readonly string[],
  pod: readonly { name?: string; value?: string }[],
): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const colon = op.indexOf(':');
    if (colon < 0) merged.set(op, '');
    else merged.set(op.slice(0, colon), op.slice(colon + 1));
  }
  for (const op of pod) if (op.name) merged.set(op.name, op.value ?? '');
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

/** GetPodDNS, then appendDNSConfig and formDNSConfigFitsLimits. */
export function podDnsConfig(pod: Pod, s: PodDnsSettings): PodDns {
  const warnings: DnsWarning[] = [];
  let type = podDnsType(pod);
  let config: DnsConfig | undefined;
  if (type === 'cluster' && s.clusterDNS.length === 0) {
    warnings.push({
      reason: 'MissingClusterDNS',
      message:
        'pod: "' +
        `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})` +
        '". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
    });
    type = 'host';
  }
  switch (type) {
    case 'none':
      config = { servers: [], searches: [], options: [] };
      break;
    case 'cluster':
      config = {
        servers: [...s.clusterDNS],
        searches: clusterSearches(pod, s),
        options: [...CLUSTER_FIRST_OPTIONS],
      };
      break;
    case 'host':
      // The engine's default is the host's file; written out only when dnsConfig adds to it.
      config = pod.spec?.dnsConfig
        ? {
            servers: reachableFromPods(s.host.servers),
            searches: [...s.host.searches],
            options: [...s.host.options],
          }
        : undefined;
      break;
  }
  const extra = pod.spec?.dnsConfig;
  if (config && extra)
    config = {
      servers: omitDuplicates([...config.servers, ...(extra.nameservers ?? [])]),
      searches: omitDuplicates([...config.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(config.options, extra.options ?? []),
    };
  return { ...(config ? { config: fitLimits(config, warnings) } : {}), warnings };
}

/** generateSearchesForDNSClusterFirst: the pod's namespace's, then the cluster's, then the host's. */
function clusterSearches(pod: Pod, s: PodDnsSettings): string[] {
  if (!s.clusterDomain) return [...s.host.searches];
  const ns = pod.metadata?.namespace ?? 'default';
  return omitDuplicates([
    `${ns}.svc.${s.clusterDomain}`,
    `svc.${s.clusterDomain}`,
    s.clusterDomain,
    ...s.host.searches,
  ]);
}

/** formDNSConfigFitsLimits: at most 3 nameservers and 32 search paths of 2048 characters, with a warning. */
function fitLimits(config: DnsConfig, warnings: DnsWarning[]): DnsConfig {
  let { servers, searches } = config;
  if (servers.length > MAX_DNS_NAMESERVERS) {
    servers = servers.slice(0, MAX_DNS_NAMESERVERS);
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${servers.join(' ')}`,
    });
  }
  let trimmed = false;
  while (searches.length > MAX_DNS_SEARCH_PATHS || searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    searches = searches.slice(0, -1);
    trimmed = true;
  }
  if (trimmed)
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    });
  return { servers, searches, options: config.options };
}
