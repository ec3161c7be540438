import { describe, expect, it } from '@jest/globals';

import { type HostNetwork } from './host-network.js';
import { interfaceAddress, PortalManager, type PortalManagerOptions } from './portal-manager.js';
import { leftovers, portalChains, portalRulesText, splitRule } from './portal-rules.js';

/**
 * Records every command; iptables-save answers with `saved`, `ip route show` with `routeShow`.
 * The filter table is modelled (`-I`, `-D`, `-C` on `filterRules`, `<chain> <rule>` each); in
 * the nat table every rule is present.
 */
class FakeHostNetwork implements HostNetwork {
  readonly calls: string[][] = [];
  readonly restores: string[] = [];
  readonly filterRules: string[] = [];
  saved = '';
  routeShow = '';

  async save(table: 'nat'): Promise<string> {
    this.calls.push(['iptables-save', '-t', table]);
    return this.saved;
  }
  async restore(text: string): Promise<void> {
    this.calls.push(['iptables-restore']);
    this.restores.push(text);
  }
  async iptables(args: readonly string[]): Promise<void> {
    this.calls.push(['iptables', ...args]);
    if (args[1] !== 'filter') return;
    const [op, chain, ...rest] = args.slice(2);
    const rule = `${chain} ${(op === '-I' ? rest.slice(1) : rest).join(' ')}`;
    const at = this.filterRules.indexOf(rule);
    if (op === '-I') this.filterRules.unshift(rule);
    else if (at < 0) throw new Error('iptables: Bad rule (does a matching rule exist in that chain?)');
    else if (op === '-D') this.filterRules.splice(at, 1);
  }
  async ip(args: readonly string[]): Promise<string> {
    this.calls.push(['ip', ...args]);
    if (args[1] === 'show') return this.routeShow;
    if (args[0] === '-4') return '5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n';
    return '';
  }
}

const portal = {
  key: 'ns/web:http',
  clusterIP: '10.96.0.20',
  port: 80,
  protocol: 'TCP' as const,
  proxyPort: 41000,
};

describe('portal rules', () => {
  it('names chains per instance, within iptables’ 28 characters', () => {
    expect(portalChains('ab12')).toMatchObject({
      container: 'WAKE-PORTALS-CONTAINER-AB12',
      host: 'WAKE-PORTALS-HOST-AB12',
      postrouting: 'WAKE-POSTROUTING-AB12',
      comment: 'wake proxy ab12',
    });
    expect(portalChains().container).toBe('WAKE-PORTALS-CONTAINER');
    expect(portalChains('abcde').container.length).toBeLessThanOrEqual(28);
    expect(() => portalChains('toolong')).toThrow(/1-5 characters/);
    expect(() => portalChains('A B')).toThrow(RangeError);
  });

  it('DNATs each ClusterIP:port to the proxy port on the gateway, in both chains, in one restore', () => {
    const chains = portalChains('t1');
    const text = portalRulesText(
      chains,
      [
        portal,
        {
          ...portal,
          key: 'kube-system/kube-dns:dns',
          clusterIP: '10.96.0.10',
          port: 53,
          protocol: 'UDP',
          proxyPort: 41001,
        },
      ],
      '172.17.0.1',
    );
    expect(text.split('\n')).toEqual([
      '*nat',
      ':WAKE-PORTALS-CONTAINER-T1 - [0:0]',
      ':WAKE-PORTALS-HOST-T1 - [0:0]',
      ':WAKE-POSTROUTING-T1 - [0:0]',
      '-A WAKE-PORTALS-CONTAINER-T1 -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/web:http" -j DNAT --to-destination 172.17.0.1:41000',
      '-A WAKE-PORTALS-CONTAINER-T1 -d 10.96.0.10/32 -p udp -m udp --dport 53 -m comment --comment "kube-system/kube-dns:dns" -j DNAT --to-destination 172.17.0.1:41001',
      '-A WAKE-PORTALS-HOST-T1 -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/web:http" -j DNAT --to-destination 172.17.0.1:41000',
      '-A WAKE-PORTALS-HOST-T1 -d 10.96.0.10/32 -p udp -m udp --dport 53 -m comment --comment "kube-system/kube-dns:dns" -j DNAT --to-destination 172.17.0.1:41001',
      '-A WAKE-POSTROUTING-T1 -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A WAKE-POSTROUTING-T1 -j MARK --xor-mark 0x4000',
      '-A WAKE-POSTROUTING-T1 -m comment --comment "wake service traffic requiring SNAT" -j MASQUERADE',
      'COMMIT',
      '',
    ]);
  });

  it('finds its own leftovers in iptables-save output and nothing of anyone else’s', () => {
    const saved = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':DOCKER - [0:0]',
      ':WAKE-PORTALS-CONTAINER-T1 - [0:0]',
      ':WAKE-PORTALS-CONTAINER-T2 - [0:0]',
      ':WAKE-PORTALS-HOST-T1 - [0:0]',
      '-A PREROUTING -m comment --comment "wake proxy t1" -j WAKE-PORTALS-CONTAINER-T1',
      '-A PREROUTING -m comment --comment "wake proxy t2" -j WAKE-PORTALS-CONTAINER-T2',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A OUTPUT -j WAKE-PORTALS-HOST-T1',
      '-A WAKE-PORTALS-HOST-T1 -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.1:41000',
      'COMMIT',
    ].join('\n');
    expect(leftovers(saved, portalChains('t1'))).toEqual({
      deletes: [
        [
          '-t',
          'nat',
          '-D',
          'PREROUTING',
          '-m',
          'comment',
          '--comment',
          'wake proxy t1',
          '-j',
          'WAKE-PORTALS-CONTAINER-T1',
        ],
        ['-t', 'nat', '-D', 'OUTPUT', '-j', 'WAKE-PORTALS-HOST-T1'],
      ],
      chains: ['WAKE-PORTALS-CONTAINER-T1', 'WAKE-PORTALS-HOST-T1'],
    });
    expect(splitRule('-A X -m comment --comment "a \\"b\\" c" -j Y')).toEqual([
      '-A',
      'X',
      '-m',
      'comment',
      '--comment',
      'a "b" c',
      '-j',
      'Y',
    ]);
  });
});

describe('PortalManager', () => {
  const t1 = { instanceId: 't1', proxyAddress: '172.17.0.1', serviceCidr: '10.97.0.0/16' };
  /** A manager on a fresh fake host whose iptables-save shows `saved`. */
  const managed = (o: PortalManagerOptions = t1, saved = '') => {
    const net = new FakeHostNetwork();
    net.saved = saved;
    return { net, m: new PortalManager(net, o) };
  };
  const chains = portalChains('t1');
  const stale = [
    ':WAKE-PORTALS-CONTAINER-T1 - [0:0]',
    ':WAKE-PORTALS-HOST-T1 - [0:0]',
    '-A PREROUTING -m comment --comment "wake proxy t1" -j WAKE-PORTALS-CONTAINER-T1',
    '-A OUTPUT -m comment --comment "wake proxy t1" -j WAKE-PORTALS-HOST-T1',
  ].join('\n');

  const rejectRule = ['-d', '10.97.0.0/16', '-m', 'comment', '--comment', 'wake proxy t1', '-j', 'REJECT'];
  /** A refusing rule as FakeHostNetwork.filterRules holds it. */
  const reject = (chain: string) => `${chain} ${rejectRule.join(' ')}`;

  it('start: removes a crashed instance’s rules, then chains, jumps first in PREROUTING, OUTPUT and POSTROUTING, and the refusal of the rest of the service range', async () => {
    const { net, m } = managed(t1, stale);
    await m.start();
    expect(net.calls).toEqual([
      ['iptables-save', '-t', 'nat'],
      [
        'iptables',
        '-t',
        'nat',
        '-D',
        'PREROUTING',
        '-m',
        'comment',
        '--comment',
        'wake proxy t1',
        '-j',
        chains.container,
      ],
      [
        'iptables',
        '-t',
        'nat',
        '-D',
        'OUTPUT',
        '-m',
        'comment',
        '--comment',
        'wake proxy t1',
        '-j',
        chains.host,
      ],
      ['iptables', '-t', 'nat', '-F', chains.container],
      ['iptables', '-t', 'nat', '-F', chains.host],
      ['iptables', '-t', 'nat', '-X', chains.container],
      ['iptables', '-t', 'nat', '-X', chains.host],
      ['iptables-restore'],
      [
        'iptables',
        '-t',
        'nat',
        '-I',
        'PREROUTING',
        '1',
        '-m',
        'comment',
        '--comment',
        'wake proxy t1',
        '-j',
        chains.container,
      ],
      [
        'iptables',
        '-t',
        'nat',
        '-I',
        'OUTPUT',
        '1',
        '-m',
        'comment',
        '--comment',
        'wake proxy t1',
        '-j',
        chains.host,
      ],
      [
        'iptables',
        '-t',
        'nat',
        '-I',
        'POSTROUTING',
        '1',
        '-m',
        'comment',
        '--comment',
        'wake proxy t1',
        '-j',
        chains.postrouting,
      ],
      ['iptables', '-t', 'filter', '-C', 'OUTPUT', ...rejectRule],
      ['iptables', '-t', 'filter', '-C', 'FORWARD', ...rejectRule],
      ['ip', 'route', 'show', 'type', 'blackhole', 'exact', '10.97.0.0/16'],
      ['iptables', '-t', 'filter', '-I', 'OUTPUT', '1', ...rejectRule],
      ['iptables', '-t', 'filter', '-I', 'FORWARD', '1', ...rejectRule],
    ]);
    expect(net.restores[0]).toBe(portalRulesText(chains, [], '172.17.0.1'));
    expect(net.filterRules).toEqual([reject('FORWARD'), reject('OUTPUT')]);
  });

  it('sync: rewrites the chains only when the rules change; stop removes jumps, chains and the refusing rules', async () => {
    const { net, m } = managed();
    await m.start();
    expect(await m.sync([portal])).toBe(true);
    expect(await m.sync([portal])).toBe(false);
    expect(m.rules).toBe(5); // two portal rules and the three of POSTROUTING
    expect(net.restores).toHaveLength(2);
    net.calls.length = 0;
    net.saved = stale; // what iptables-save shows now
    await m.stop();
    expect(net.calls.filter((c) => c[0] !== 'iptables-save').map((c) => c.slice(0, 5).join(' '))).toEqual([
      'iptables -t nat -D PREROUTING',
      'iptables -t nat -D OUTPUT',
      `iptables -t nat -F ${chains.container}`,
      `iptables -t nat -F ${chains.host}`,
      `iptables -t nat -X ${chains.container}`,
      `iptables -t nat -X ${chains.host}`,
      'iptables -t filter -C OUTPUT',
      'iptables -t filter -D OUTPUT',
      'iptables -t filter -C OUTPUT',
      'iptables -t filter -C FORWARD',
      'iptables -t filter -D FORWARD',
      'iptables -t filter -C FORWARD',
    ]);
    expect(net.filterRules).toEqual([]);
    expect(m.rules).toBe(0);
  });

  it('start: removes refusing rules a crashed instance left (every copy) and an earlier version’s blackhole route', async () => {
    const troubles: string[] = [];
    const { net, m } = managed({ ...t1, onTrouble: (_w, e) => troubles.push(e.message) });
    net.filterRules.push(reject('OUTPUT'), reject('OUTPUT'), reject('FORWARD'), 'OUTPUT -j SOMEONE-ELSES');
    net.routeShow = 'blackhole 10.97.0.0/16\n';
    await m.start();
    expect(net.filterRules).toEqual([reject('FORWARD'), reject('OUTPUT'), 'OUTPUT -j SOMEONE-ELSES']);
    expect(net.calls).toContainEqual(['ip', 'route', 'del', 'blackhole', '10.97.0.0/16']);
    expect(troubles).toEqual([expect.stringContaining('kept the host from every ClusterIP')]);
  });

  it('without a service range: no filter rule and no route', async () => {
    const { net, m } = managed({ instanceId: 't1', proxyAddress: '172.17.0.1' });
    await m.start();
    await m.stop();
    expect(net.calls.filter((c) => c[0] === 'ip' || c[2] === 'filter')).toEqual([]);
  });

  it('repair: puts back a jump rule someone removed, and rewrites the chains on the next sync', async () => {
    const { net, m } = managed({ instanceId: 't1', proxyAddress: '172.17.0.1' });
    await m.start();
    await m.sync([portal]);
    // -C answers "missing" for OUTPUT's jump only.
    const iptables = net.iptables.bind(net);
    net.iptables = async (args) => {
      await iptables(args);
      if (args[2] === '-C' && args[3] === 'OUTPUT')
        throw new Error('iptables: Bad rule (does a matching rule exist in that chain?)');
    };
    net.calls.length = 0;
    net.restores.length = 0;
    await m.repair();
    expect(net.calls.map((c) => c.slice(0, 5).join(' '))).toEqual([
      'iptables -t nat -C PREROUTING',
      'iptables -t nat -C OUTPUT',
      'iptables-restore',
      'iptables -t nat -I OUTPUT',
      'iptables -t nat -C POSTROUTING',
    ]);
    expect(await m.sync([portal])).toBe(true);
    expect(net.restores.at(-1)).toContain('-A WAKE-PORTALS-HOST-T1 -d 10.96.0.20/32');
  });

  it('repair: puts back a refusing rule someone removed (an iptables -F FORWARD), and says so', async () => {
    const troubles: string[] = [];
    const { net, m } = managed({ ...t1, onTrouble: (_w, e) => troubles.push(e.message) });
    await m.start();
    net.filterRules.splice(net.filterRules.indexOf(reject('FORWARD')), 1);
    await m.repair();
    expect(net.filterRules).toEqual([reject('FORWARD'), reject('OUTPUT')]);
    expect(troubles).toEqual([expect.stringContaining('filter FORWARD was gone')]);
  });

  it('reads the bridge address pods reach the proxy at', async () => {
    expect(await interfaceAddress(new FakeHostNetwork(), 'docker0')).toBe('172.17.0.1');
  });
});
