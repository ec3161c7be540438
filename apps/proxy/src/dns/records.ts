import { isIPv4, isIPv6 } from 'node:net';

import { type Question, RCODE, type ResourceRecord, type SoaData, type SrvData } from './codec.js';
import { type ClusterView, clusterIPs, type Service, sliceServiceKey } from './cluster-view.js';

/**
 * The cluster zone's records, computed from the informers' objects as CoreDNS' kubernetes
 * plugin does (coredns/plugin/kubernetes/kubernetes.go `Records`, `findServices`,
 * `findPods`; reverse.go) per the Kubernetes DNS specification (kubernetes/dns
 * docs/specification.md, schema version 1.1.0). No zone transfers, no NS records: pods only
 * ever ask this server, never walk the zone.
 */

/** The schema version `dns-version.<zone>` answers (specification.md §2.2). */
export const DNS_SCHEMA_VERSION = '1.1.0';

export interface ZoneOptions {
  /** The cluster domain, e.g. `cluster.local` (no trailing dot). */
  domain: string;
  /** TTL of every answer and of negative answers (CoreDNS' kubernetes plugin: 5 s). */
  ttl: number;
  /**
   * The SOA serial (CoreDNS: when the informers last changed, in seconds); a function when the
   * zone lives as long as its view and the serial moves with it.
   */
  serial: number | (() => number);
}

export type Resolution =
  /** An authoritative answer from the cluster zone. */
  | {
      kind: 'answer';
      rcode: number;
      answers: ResourceRecord[];
      authorities: ResourceRecord[];
      additionals: ResourceRecord[];
      /** An ExternalName's target, still to resolve for the question's type (CNAME chasing). */
      chase?: string;
    }
  /** Not ours: the upstream resolvers answer it (CoreDNS' `forward .` and `fallthrough`). */
  | { kind: 'forward' };

/** `a-b-c-d` → `a.b.c.d`, and the dashed IPv6 form; undefined when it is not an address. */
export function undashIp(label: string): string | undefined {
  const v4 = label.replaceAll('-', '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replaceAll('-', ':');
  return isIPv6(v6) ? v6 : undefined;
}

/** The name an endpoint has under its Service: its hostname, else its dashed address (CoreDNS `endpointHostname`). */
export function endpointHostname(address: string, hostname?: string): string {
  if (hostname) return hostname;
  return address.includes(':') ? address.replaceAll(':', '-') : address.replaceAll('.', '-');
}

/** A Service's or EndpointSlice's port as its SRV names read it: protocol lower-cased, TCP by default. */
interface NamedPort {
  name: string;
  protocol: string;
  port: number;
}

function namedPort(p: { name?: string; protocol?: string; port?: number }): NamedPort {
  return { name: p.name ?? '', protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port ?? 0 };
}

/** An endpoint address DNS publishes under its Service. */
interface DnsEndpoint {
  address: string;
  hostname?: string;
  ports: NamedPort[];
}

/** Whether a question asks for address records (A, AAAA or ANY). */
function wantsAddresses(q: Question): boolean {
  return q.type === 'A' || q.type === 'AAAA' || q.type === 'ANY';
}

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

export class ClusterZone {
  private readonly domain: string;

  constructor(
    private readonly view: ClusterView,
    private readonly o: ZoneOptions,
  ) {
    this.domain = trimDot(o.domain).toLowerCase();
  }

  /** Whether a name is in the cluster zone (names are compared without case, RFC 4343). */
  inZone(name: string): boolean {
    const n = trimDot(name).toLowerCase();
    return n === this.domain || n.endsWith(`.${this.domain}`);
  }

  resolve(q: Question): Resolution {
    const name = trimDot(q.name).toLowerCase();
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return this.reverse(q, name);
    if (!this.inZone(name)) return { kind: 'forward' };
    const labels = name === this.domain ? [] : name.slice(0, -(this.domain.length + 1)).split('.');
    if (labels.length === 0) return this.apex(q);
    const kind = labels[labels.length - 1];
    const rest = labels.slice(0, -1);
    if (kind === 'svc') return this.services(q, rest);
    if (kind === 'pod') return this.pods(q, rest);
    if (labels.length === 1 && kind === 'dns-version')
      return q.type === 'TXT'
        ? this.answer([{ name: q.name, type: 'TXT', ttl: this.o.ttl, data: [DNS_SCHEMA_VERSION] }])
        : this.noData();
    return this.nxDomain();
  }

  soa(): ResourceRecord {
    const data: SoaData = {
      mname: `ns.dns.${this.domain}`,
      rname: `hostmaster.${this.domain}`,
      serial: typeof this.o.serial === 'function' ? this.o.serial() : this.o.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.o.ttl,
    };
    return { name: this.domain, type: 'SOA', ttl: this.o.ttl, data };
  }

  private apex(q: Question): Resolution {
    if (q.type === 'SOA') return this.answer([this.soa()]);
    return this.noData();
  }

  // ---- <...>.svc.<zone> ----

  private services(q: Question, rest: string[]): Resolution {
    // Read from the zone outwards: namespace, Service, then an endpoint or a port's labels.
    const [namespace, serviceName, ...inner] = [...rest].reverse();
    if (namespace === undefined) return this.noData();
    if (serviceName === undefined)
      return this.view.namespaceExists(namespace) ? this.noData() : this.nxDomain();
    const svc = this.view.service(namespace, serviceName);
    if (!svc) return this.nxDomain();
    if (inner.length === 0) return this.serviceRecords(q, svc);
    if (svc.spec?.type === 'ExternalName') return this.nxDomain();
    if (inner.length === 1) {
      const [label] = inner;
      // `_tcp.<svc>...` is the empty non-terminal above the SRV names: it exists when a port uses it.
      if (label.startsWith('_'))
        return this.ports(svc).some((p) => `_${p.protocol}` === label) ? this.noData() : this.nxDomain();
      return this.endpointRecords(q, svc, label);
    }
    if (inner.length === 2) {
      const [protoLabel, portLabel] = inner;
      return this.srvRecords(q, svc, portLabel, protoLabel);
    }
    return this.nxDomain();
  }

  private serviceFqdn(svc: Service): string {
    return `${svc.metadata.name}.${svc.metadata.namespace}.svc.${this.domain}`;
  }

  private serviceRecords(q: Question, svc: Service): Resolution {
    if (svc.spec?.type === 'ExternalName') {
      const target = trimDot(svc.spec.externalName ?? '');
      if (!target) return this.nxDomain();
      const cname: ResourceRecord = { name: q.name, type: 'CNAME', ttl: this.o.ttl, data: target };
      return q.type === 'CNAME' ? this.answer([cname]) : { ...this.answer([cname]), chase: target };
    }
    if (q.type === 'SRV') return this.srvRecords(q, svc, undefined, undefined);
    if (!wantsAddresses(q)) return this.noData();
    const addresses = isHeadless(svc) ? this.readyAddresses(svc).map((e) => e.address) : clusterIPs(svc);
    return this.answer(addresses.flatMap((ip) => this.addressRecord(q, ip)));
  }

  private endpointRecords(q: Question, svc: Service, label: string): Resolution {
    const matching = this.readyAddresses(svc).filter(
      (e) => endpointHostname(e.address, e.hostname).toLowerCase() === label,
    );
    if (matching.length === 0) return this.nxDomain();
    if (!wantsAddresses(q)) return this.noData();
    return this.answer(matching.flatMap((e) => this.addressRecord(q, e.address)));
  }

  /**
   * SRV for named ports (specification.md §2.3.2 and §2.4.2): `_<port>._<proto>.<svc>...`; a
   * query for the Service's own name gets every named port (CoreDNS answers it the same way).
   */
  private srvRecords(
    q: Question,
    svc: Service,
    portLabel: string | undefined,
    protoLabel: string | undefined,
  ): Resolution {
    const ports = this.ports(svc).filter(
      (p) =>
        p.name !== '' &&
        (portLabel === undefined || `_${p.name.toLowerCase()}` === portLabel) &&
        (protoLabel === undefined || `_${p.protocol}` === protoLabel),
    );
    if (ports.length === 0) return portLabel === undefined ? this.noData() : this.nxDomain();
    if (q.type !== 'SRV' && q.type !== 'ANY') return this.noData();
    const records: { srv: SrvData; address?: string }[] = [];
    if (isHeadless(svc)) {
      for (const e of this.readyAddresses(svc))
        for (const p of ports) {
          const port = e.ports.find((sp) => sp.name === p.name && sp.protocol === p.protocol);
          if (!port) continue;
          const target = `${endpointHostname(e.address, e.hostname)}.${this.serviceFqdn(svc)}`;
          records.push({ srv: { priority: 0, weight: 0, port: port.port, target }, address: e.address });
        }
    } else {
      const [ip] = clusterIPs(svc);
      for (const p of ports)
        records.push({
          srv: { priority: 0, weight: 0, port: p.port, target: this.serviceFqdn(svc) },
          address: ip,
        });
    }
    // CoreDNS: the weights of one priority share 100.
    const weight = records.length ? Math.max(1, Math.floor(100 / records.length)) : 0;
    const answers: ResourceRecord[] = records.map((r) => ({
      name: q.name,
      type: 'SRV',
      ttl: this.o.ttl,
      data: { ...r.srv, weight },
    }));
    const seen = new Set<string>();
    const additionals = records.flatMap((r) => {
      const key = `${r.srv.target}/${r.address}`;
      if (r.address === undefined || seen.has(key)) return [];
      seen.add(key);
      return [this.addressRecordFor(r.srv.target, r.address)];
    });
    return { ...this.answer(answers), additionals };
  }

  private ports(svc: Service): NamedPort[] {
    return (svc.spec?.ports ?? []).map(namedPort);
  }

  /**
   * The Service's endpoints DNS publishes: ready ones, or all with publishNotReadyAddresses
   * (an unset `ready` counts as ready, as discovery/v1 says), each address once.
   */
  private readyAddresses(svc: Service): DnsEndpoint[] {
    const all = svc.spec?.publishNotReadyAddresses === true;
    const seen = new Set<string>();
    const out: DnsEndpoint[] = [];
    const slices = this.view
      .slicesOf(svc.metadata.namespace ?? '', svc.metadata.name ?? '')
      .filter((s) => s.addressType === 'IPv4' || s.addressType === 'IPv6');
    for (const slice of slices) {
      const ports = (slice.ports ?? []).map(namedPort);
      for (const e of slice.endpoints ?? []) {
        if (!all && e.conditions?.ready === false) continue;
        for (const address of e.addresses ?? []) {
          if (seen.has(address)) continue;
          seen.add(address);
          out.push({ address, ...(e.hostname ? { hostname: e.hostname } : {}), ports });
        }
      }
    }
    return out;
  }

  // ---- <ip>.<ns>.pod.<zone> (CoreDNS `pods insecure`) ----

  private pods(q: Question, rest: string[]): Resolution {
    const [namespace, label, ...more] = [...rest].reverse();
    if (namespace === undefined) return this.noData();
    if (!this.view.namespaceExists(namespace)) return this.nxDomain();
    if (label === undefined) return this.noData();
    const ip = more.length === 0 ? undashIp(label) : undefined;
    if (ip === undefined) return this.nxDomain();
    if (!wantsAddresses(q)) return this.noData();
    return this.answer(this.addressRecord(q, ip));
  }

  // ---- PTR ----

  private reverse(q: Question, name: string): Resolution {
    const ip = reverseNameToIp(name);
    if (ip === undefined || q.type !== 'PTR') return { kind: 'forward' };
    const targets = new Set<string>();
    for (const svc of this.view.servicesByClusterIP(ip)) targets.add(this.serviceFqdn(svc));
    for (const slice of this.view.slicesByAddress(ip)) {
      const key = sliceServiceKey(slice);
      if (!key) continue;
      const [namespace, service] = key.split('/');
      for (const e of slice.endpoints ?? [])
        if (e.addresses?.includes(ip))
          targets.add(`${endpointHostname(ip, e.hostname)}.${service}.${namespace}.svc.${this.domain}`);
    }
    // Not a cluster address: the upstream's (CoreDNS' `fallthrough in-addr.arpa ip6.arpa`).
    if (targets.size === 0) return { kind: 'forward' };
    return this.answer([...targets].map((data) => ({ name: q.name, type: 'PTR', ttl: this.o.ttl, data })));
  }

  // ---- helpers ----

  private addressRecord(q: Question, ip: string): ResourceRecord[] {
    const v4 = isIPv4(ip);
    if ((q.type === 'A' && !v4) || (q.type === 'AAAA' && v4)) return [];
    return [{ name: q.name, type: v4 ? 'A' : 'AAAA', ttl: this.o.ttl, data: ip }];
  }

  private addressRecordFor(name: string, ip: string): ResourceRecord {
    return { name, type: isIPv4(ip) ? 'A' : 'AAAA', ttl: this.o.ttl, data: ip };
  }

  /** Records, or NODATA when the name exists without records of the type. */
  private answer(answers: ResourceRecord[]): Resolution & { kind: 'answer' } {
    if (answers.length === 0) return this.noData();
    return { kind: 'answer', rcode: RCODE.NOERROR, answers, authorities: [], additionals: [] };
  }

  /** The name exists, not with this type: NOERROR, no answers, the SOA for negative caching (RFC 2308). */
  private noData(): Resolution & { kind: 'answer' } {
    return { kind: 'answer', rcode: RCODE.NOERROR, answers: [], authorities: [this.soa()], additionals: [] };
  }

  private nxDomain(): Resolution & { kind: 'answer' } {
    return { kind: 'answer', rcode: RCODE.NXDOMAIN, answers: [], authorities: [this.soa()], additionals: [] };
  }
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** `d.c.b.a.in-addr.arpa` → `a.b.c.d`; the nibble form of ip6.arpa → the IPv6 address. */
export function reverseNameToIp(name: string): string | undefined {
  const n = trimDot(name).toLowerCase();
  if (n.endsWith('.in-addr.arpa')) {
    const octets = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4) return undefined;
    const ip = octets.reverse().join('.');
    return isIPv4(ip) ? ip : undefined;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((x) => !/^[0-9a-f]$/.test(x))) return undefined;
    const hex = nibbles.reverse().join('');
    const ip = hex.match(/.{4}/g)!.join(':');
    // Compare in the canonical shortened form the API stores addresses in.
    return isIPv6(ip) ? canonicalIPv6(ip) : undefined;
  }
  return undefined;
}

function canonicalIPv6(ip: string): string {
  return new URL(`http://[${ip}]`).hostname.slice(1, -1);
}
