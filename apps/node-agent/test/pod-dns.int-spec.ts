import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Pod } from '../src/api-types.js';
import { type PodDnsSettings } from '../src/config/pod-dns.js';
import { serveNodeStreams } from '../src/streams/index.js';
import { podWorld, type PodWorld } from './pod-harness.js';

/** The node's settings: the kube-dns address as --cluster-dns, and a host file with a search domain. */
const DNS: PodDnsSettings = {
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host: { servers: ['192.0.2.53'], searches: ['corp.example'], options: [] },
};

/**
 * Pods' /etc/resolv.conf per dnsPolicy on the real engine: pod workers in this process make
 * the sandbox with the resolver settings, and the real kubectl reads the file through exec.
 * Nothing is resolved: only the file is looked at.
 */
describe('pod DNS settings on Docker, read with kubectl exec', () => {
  let w: PodWorld;
  let streams: { close(): void } | undefined;

  const resolvConf = async (pod: string) => {
    const r = await w.cluster.kubectl(33, ['-n', w.ns, 'exec', pod, '--', 'cat', '/etc/resolv.conf']);
    if (r.code !== 0) throw new Error(`kubectl exec ${pod}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  /** The file's lines that configure something (Docker adds comments and puts search first), sorted. */
  const settings = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .sort();
  const runPod = async (name: string, spec: Record<string, unknown>): Promise<Pod> => {
    await w.createPod(name, {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
      ...spec,
    });
    return w.waitPod(name, 'running', (p) => p.status?.phase === 'Running');
  };

  beforeAll(async () => {
    w = await podWorld('poddns');
    streams = serveNodeStreams(w.nats, w.nodeName, w.runtime);
    await w.startManager({ dns: DNS });
  });
  afterAll(async () => {
    streams?.close();
    await w?.close();
  });

  it('ClusterFirst (the default): the cluster DNS, the namespace’s search paths then the host’s, ndots:5', async () => {
    await runPod('first', {});
    expect(settings(await resolvConf('first'))).toEqual([
      'nameserver 10.96.0.10',
      'options ndots:5',
      `search ${w.ns}.svc.cluster.local svc.cluster.local cluster.local corp.example`,
    ]);
  });

  it('Default: the engine’s copy of the host’s resolvers, nothing of the cluster’s', async () => {
    await runPod('dflt', { dnsPolicy: 'Default' });
    const lines = settings(await resolvConf('dflt'));
    expect(lines.some((l) => l.startsWith('nameserver '))).toBe(true);
    expect(lines.join('\n')).not.toContain('10.96.0.10');
    expect(lines.join('\n')).not.toContain('cluster.local');
    expect(lines).not.toContain('options ndots:5');
  });

  it('None with dnsConfig: exactly the pod’s nameservers, searches and options', async () => {
    await runPod('custom', {
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['192.0.2.1'],
        searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    });
    expect(settings(await resolvConf('custom'))).toEqual([
      'nameserver 192.0.2.1',
      'options ndots:2 edns0',
      'search ns1.svc.cluster-domain.example my.dns.search.suffix',
    ]);
  });
});
