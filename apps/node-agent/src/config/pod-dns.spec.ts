import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../api-types.js';
import { parseResolvConf, podDnsConfig, type PodDnsSettings } from './pod-dns.js';

const host = parseResolvConf(
  [
    '# written by the host',
    'nameserver 192.0.2.53',
    'nameserver 127.0.0.53',
    'search corp.example lab.example',
    'options edns0 timeout:2',
  ].join('\n'),
);
const settings: PodDnsSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, namespace = 'team'): Pod {
  return {
    metadata: { name: 'p', namespace, uid: 'u1' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  } as Pod;
}

describe('parseResolvConf', () => {
  it('reads nameservers, the last search line and options, skipping comments', () => {
    expect(host).toEqual({
      servers: ['192.0.2.53', '127.0.0.53'],
      searches: ['corp.example', 'lab.example'],
      options: ['edns0', 'timeout:2'],
    });
    expect(parseResolvConf('domain a.example\nsearch b.example.\n').searches).toEqual(['b.example']);
    expect(parseResolvConf('')).toEqual({ servers: [], searches: [], options: [] });
  });
});

describe('podDnsConfig (the kubelet’s GetPodDNS)', () => {
  it('ClusterFirst (the default): the cluster DNS only, cluster search paths then the host’s, ndots:5', () => {
    expect(podDnsConfig(pod(), settings)).toEqual({
      config: {
        servers: ['10.96.0.10'],
        searches: [
          'team.svc.cluster.local',
          'svc.cluster.local',
          'cluster.local',
          'corp.example',
          'lab.example',
        ],
        options: ['ndots:5'],
      },
      warnings: [],
    });
    expect(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), settings).config?.servers).toEqual([
      '10.96.0.10',
    ]);
  });

  it('ClusterFirst without --cluster-dns falls back to Default with a MissingClusterDNS warning', () => {
    const r = podDnsConfig(pod(), { ...settings, clusterDNS: [] });
    expect(r.config).toBeUndefined();
    expect(r.warnings).toEqual([
      {
        reason: 'MissingClusterDNS',
        message:
          'pod: "p_team(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
      },
    ]);
  });

  it('Default: the engine’s own copy of the host’s file, unless dnsConfig adds to it', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings)).toEqual({ warnings: [] });
    const withExtra = podDnsConfig(
      pod({
        dnsPolicy: 'Default',
        dnsConfig: { searches: ['extra.example'], options: [{ name: 'timeout', value: '5' }] },
      }),
      settings,
    );
    // The host's loopback resolver is unreachable from a pod: left out, as Docker does.
    expect(withExtra.config).toEqual({
      servers: ['192.0.2.53'],
      searches: ['corp.example', 'lab.example', 'extra.example'],
      options: ['edns0', 'timeout:5'],
    });
  });

  it('hostNetwork: ClusterFirst means Default, ClusterFirstWithHostNet means the cluster DNS', () => {
    expect(podDnsConfig(pod({ hostNetwork: true }), settings).config).toBeUndefined();
    expect(
      podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings).config
        ?.servers,
    ).toEqual(['10.96.0.10']);
  });

  it('None: only what dnsConfig says, options merged with the pod’s overriding', () => {
    const r = podDnsConfig(
      pod({
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['192.0.2.1', '192.0.2.1', '192.0.2.2'],
          searches: ['my.dns.search.suffix'],
          options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
        },
      }),
      settings,
    );
    expect(r).toEqual({
      config: {
        servers: ['192.0.2.1', '192.0.2.2'],
        searches: ['my.dns.search.suffix'],
        options: ['ndots:2', 'edns0'],
      },
      warnings: [],
    });
  });

  it('ClusterFirst with dnsConfig appends to the cluster settings; the pod’s ndots wins', () => {
    const r = podDnsConfig(
      pod({
        dnsConfig: {
          nameservers: ['192.0.2.9'],
          searches: ['svc.cluster.local', 'x.example'],
          options: [{ name: 'ndots', value: '1' }],
        },
      }),
      { ...settings, host: { servers: [], searches: [], options: [] } },
    );
    expect(r.config).toEqual({
      servers: ['10.96.0.10', '192.0.2.9'],
      searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'x.example'],
      options: ['ndots:1'],
    });
  });

  it('keeps within the resolver’s limits, warning as the kubelet does', () => {
    const r = podDnsConfig(
      pod({
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'],
          searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`),
        },
      }),
      settings,
    );
    expect(r.config?.servers).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(r.config?.searches).toHaveLength(32);
    expect(r.warnings.map((w) => w.reason)).toEqual(['DNSConfigForming', 'DNSConfigForming']);
    expect(r.warnings[0].message).toContain('the applied nameserver line is: 192.0.2.1 192.0.2.2 192.0.2.3');
  });

  it('without a cluster domain, ClusterFirst pods search the host’s domains only', () => {
    expect(podDnsConfig(pod(), { ...settings, clusterDomain: '' }).config?.searches).toEqual([
      'corp.example',
      'lab.example',
    ]);
  });
});
