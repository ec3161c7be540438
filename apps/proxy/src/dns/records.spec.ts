import { describe, expect, it } from '@jest/globals';

import { RCODE } from './codec.js';
import { type EndpointSlice, type Service, StaticClusterView } from './cluster-view.js';
import { ClusterZone, endpointHostname, type Resolution, reverseNameToIp, undashIp } from './records.js';

function service(name: string, spec: Service['spec'], namespace = 'default'): Service {
  return { metadata: { name, namespace }, spec } as Service;
}

function slice(
  svc: string,
  endpoints: { ip: string; ready?: boolean; hostname?: string }[],
  ports: { name: string; port: number; protocol?: string }[] = [],
  namespace = 'default',
): EndpointSlice {
  return {
    metadata: { name: `${svc}-abc`, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: e.ready === undefined ? {} : { ready: e.ready },
      ...(e.hostname ? { hostname: e.hostname } : {}),
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  } as unknown as EndpointSlice;
}

const services = [
  service('web', {
    type: 'ClusterIP',
    clusterIP: '10.96.0.20',
    clusterIPs: ['10.96.0.20'],
    ports: [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
      { port: 9000 },
    ],
  }),
  service('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  service('db-all', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 1 }] }),
  service('ext', { type: 'ExternalName', externalName: 'example.com.' }),
  service('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
  service('other', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] }, 'team'),
];
const slices = [
  slice('web', [{ ip: '172.17.0.5' }], [{ name: 'http', port: 8080 }]),
  slice(
    'db',
    [
      { ip: '172.17.0.2', hostname: 'db-0' },
      { ip: '172.17.0.3', ready: true },
      { ip: '172.17.0.4', ready: false, hostname: 'db-2' },
    ],
    [{ name: 'pg', port: 5432 }],
  ),
  slice('db-all', [{ ip: '172.17.0.8', ready: false }]),
];
const view = new StaticClusterView(services, slices, ['default', 'team', 'kube-system']);
const zone = new ClusterZone(view, { domain: 'cluster.local', ttl: 5, serial: 42 });

function ask(name: string, type = 'A'): Resolution {
  return zone.resolve({ name, type, class: 'IN' });
}

function data(r: Resolution): unknown[] {
  if (r.kind !== 'answer') throw new Error(`forwarded, not answered`);
  return r.answers.map((a) => a.data);
}

function rcode(r: Resolution): number | 'forward' {
  return r.kind === 'answer' ? r.rcode : 'forward';
}

describe('ClusterZone', () => {
  it('answers a ClusterIP Service with its cluster IP, whatever the case of the name', () => {
    expect(data(ask('web.default.svc.cluster.local'))).toEqual(['10.96.0.20']);
    const upper = ask('WEB.Default.SVC.Cluster.Local.');
    expect(data(upper)).toEqual(['10.96.0.20']);
    // The owner name is the question's, as written.
    expect(upper.kind === 'answer' && upper.answers[0]).toMatchObject({
      name: 'WEB.Default.SVC.Cluster.Local.',
      type: 'A',
      ttl: 5,
    });
  });

  it('answers a headless Service with its ready endpoints, all of them with publishNotReadyAddresses', () => {
    expect(data(ask('db.default.svc.cluster.local'))).toEqual(['172.17.0.2', '172.17.0.3']);
    expect(data(ask('db-all.default.svc.cluster.local'))).toEqual(['172.17.0.8']);
  });

  it('answers an endpoint by hostname or dashed address, not a not-ready one', () => {
    expect(data(ask('db-0.db.default.svc.cluster.local'))).toEqual(['172.17.0.2']);
    expect(data(ask('172-17-0-3.db.default.svc.cluster.local'))).toEqual(['172.17.0.3']);
    expect(rcode(ask('db-2.db.default.svc.cluster.local'))).toBe(RCODE.NXDOMAIN);
  });

  it('tells NXDOMAIN from NODATA, with the SOA in the authority section', () => {
    const nx = ask('missing.default.svc.cluster.local');
    expect(nx).toMatchObject({ rcode: RCODE.NXDOMAIN, answers: [] });
    expect(nx.kind === 'answer' && nx.authorities[0]).toMatchObject({
      type: 'SOA',
      data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 42, minimum: 5 },
    });
    // An existing name asked for another type.
    const aaaa = ask('web.default.svc.cluster.local', 'AAAA');
    expect(aaaa).toMatchObject({ rcode: RCODE.NOERROR, answers: [] });
    expect(aaaa.kind === 'answer' && aaaa.authorities.map((a) => a.type)).toEqual(['SOA']);
    expect(ask('web.default.svc.cluster.local', 'TXT')).toMatchObject({ rcode: RCODE.NOERROR, answers: [] });
    // Empty non-terminals exist; a namespace that does not, does not.
    expect(rcode(ask('default.svc.cluster.local'))).toBe(RCODE.NOERROR);
    expect(rcode(ask('svc.cluster.local'))).toBe(RCODE.NOERROR);
    expect(rcode(ask('nowhere.svc.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('web.nowhere.svc.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('something.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('a.b.c.web.default.svc.cluster.local'))).toBe(RCODE.NXDOMAIN);
  });

  it('serves the SOA at the apex and the schema version', () => {
    expect(ask('cluster.local', 'SOA')).toMatchObject({ answers: [{ type: 'SOA', name: 'cluster.local' }] });
    expect(data(ask('dns-version.cluster.local', 'TXT'))).toEqual([['1.1.0']]);
  });

  it('answers SRV for named ports: one to the Service name for a ClusterIP Service', () => {
    const r = ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(data(r)).toEqual([
      { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' },
    ]);
    expect(r.kind === 'answer' && r.additionals).toEqual([
      { name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' },
    ]);
    expect(data(ask('_dns._udp.web.default.svc.cluster.local', 'SRV'))).toEqual([
      { priority: 0, weight: 100, port: 53, target: 'web.default.svc.cluster.local' },
    ]);
    // The wrong protocol, an unknown port: no such name. The SRV name asked for A: NODATA.
    expect(rcode(ask('_http._udp.web.default.svc.cluster.local', 'SRV'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('_nope._tcp.web.default.svc.cluster.local', 'SRV'))).toBe(RCODE.NXDOMAIN);
    expect(ask('_http._tcp.web.default.svc.cluster.local', 'A')).toMatchObject({ rcode: 0, answers: [] });
    expect(rcode(ask('_tcp.web.default.svc.cluster.local', 'SRV'))).toBe(RCODE.NOERROR);
    // SRV at the Service's own name: every named port.
    expect(data(ask('web.default.svc.cluster.local', 'SRV'))).toHaveLength(2);
  });

  it('answers SRV for a headless Service with one record per ready endpoint, by hostname or dashed IP', () => {
    const r = ask('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    expect(data(r)).toEqual([
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.default.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: '172-17-0-3.db.default.svc.cluster.local' },
    ]);
    expect(r.kind === 'answer' && r.additionals.map((a) => [a.name, a.data])).toEqual([
      ['db-0.db.default.svc.cluster.local', '172.17.0.2'],
      ['172-17-0-3.db.default.svc.cluster.local', '172.17.0.3'],
    ]);
  });

  it('answers an ExternalName Service with a CNAME, leaving the target to chase', () => {
    expect(ask('ext.default.svc.cluster.local')).toMatchObject({
      rcode: RCODE.NOERROR,
      answers: [{ type: 'CNAME', data: 'example.com' }],
      chase: 'example.com',
    });
    const cname = ask('ext.default.svc.cluster.local', 'CNAME');
    expect(cname.kind === 'answer' && cname.chase).toBeUndefined();
  });

  it('answers pod names in `pods insecure` mode: the dashed address in an existing namespace', () => {
    expect(data(ask('172-17-0-9.default.pod.cluster.local'))).toEqual(['172.17.0.9']);
    expect(data(ask('fd00--9.team.pod.cluster.local', 'AAAA'))).toEqual(['fd00::9']);
    expect(rcode(ask('172-17-0-9.default.pod.cluster.local', 'AAAA'))).toBe(RCODE.NOERROR);
    expect(rcode(ask('172-17-0-9.nowhere.pod.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('not-an-ip.default.pod.cluster.local'))).toBe(RCODE.NXDOMAIN);
    expect(rcode(ask('default.pod.cluster.local'))).toBe(RCODE.NOERROR);
  });

  it('answers PTR for cluster IPs and endpoint addresses, and forwards other reverse names', () => {
    expect(data(ask('20.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['web.default.svc.cluster.local']);
    expect(data(ask('30.0.96.10.in-addr.arpa.', 'PTR'))).toEqual(['other.team.svc.cluster.local']);
    expect(data(ask('2.0.17.172.IN-ADDR.ARPA', 'PTR'))).toEqual(['db-0.db.default.svc.cluster.local']);
    expect(data(ask('3.0.17.172.in-addr.arpa', 'PTR'))).toEqual(['172-17-0-3.db.default.svc.cluster.local']);
    expect(ask('1.1.168.192.in-addr.arpa', 'PTR')).toEqual({ kind: 'forward' });
    expect(ask('20.0.96.10.in-addr.arpa', 'A')).toEqual({ kind: 'forward' });
  });

  it('forwards names outside the zone', () => {
    expect(ask('example.com')).toEqual({ kind: 'forward' });
    expect(ask('notcluster.local')).toEqual({ kind: 'forward' });
  });

  it('follows a Service, EndpointSlice or namespace change on the next query (nothing is cached)', () => {
    const svcs = [...services];
    const live = new StaticClusterView(svcs, [], ['default']);
    const z = new ClusterZone(live, { domain: 'cluster.local', ttl: 5, serial: 1 });
    expect(rcode(z.resolve({ name: 'late.default.svc.cluster.local', type: 'A', class: 'IN' }))).toBe(
      RCODE.NXDOMAIN,
    );
    svcs.push(service('late', { clusterIP: '10.96.0.99' }));
    expect(data(z.resolve({ name: 'late.default.svc.cluster.local', type: 'A', class: 'IN' }))).toEqual([
      '10.96.0.99',
    ]);
  });
});

describe('DNS name helpers', () => {
  it('undashes IPv4 and IPv6 labels and refuses others', () => {
    expect(undashIp('10-0-0-1')).toBe('10.0.0.1');
    expect(undashIp('fd00--1')).toBe('fd00::1');
    expect(undashIp('10-0-0')).toBeUndefined();
    expect(undashIp('web')).toBeUndefined();
  });

  it('names endpoints by hostname, else by dashed address', () => {
    expect(endpointHostname('172.17.0.2', 'db-0')).toBe('db-0');
    expect(endpointHostname('172.17.0.2')).toBe('172-17-0-2');
    expect(endpointHostname('fd00::2')).toBe('fd00--2');
  });

  it('reads reverse names', () => {
    expect(reverseNameToIp('4.3.2.1.in-addr.arpa')).toBe('1.2.3.4');
    expect(reverseNameToIp('3.2.1.in-addr.arpa')).toBeUndefined();
    expect(reverseNameToIp(`1.${'0.'.repeat(27)}0.0.d.f.ip6.arpa`)).toBe('fd00::1');
  });
});
