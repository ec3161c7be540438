import { describe, expect, it } from '@jest/globals';

import { type HostNetwork } from './host-network.js';
import { PortalManager } from './portal-manager.js';
import { kernelChainsIn, leftovers, type Portal, portalChains, portalRulesText } from './portal-rules.js';
import { kernelChainNames, serviceChainRules } from './service-chains.js';

const chains = portalChains('t1');
const names = chains.kernel;
const key = 'ns/web:http';
const endpoints = [
  { ip: '172.17.0.5', port: 8080 },
  { ip: '172.17.0.6', port: 8080 },
  { ip: '172.17.0.7', port: 8080 },
];
const svc = names.service(key, 'TCP');
const sep = endpoints.map((e) => names.endpoint(key, 'TCP', e));

const portal = (over: Partial<Portal> = {}): Portal => ({
  key,
  clusterIP: '10.96.0.20',
  port: 80,
  protocol: 'TCP',
  proxyPort: 41000,
  kernel: { endpoints },
  ...over,
});

describe('iptables mode chain names', () => {
  it('are at most 28 characters, stable, per service port and endpoint, and per instance', () => {
    const longest = kernelChainNames('abcde');
    expect(longest.service(key, 'TCP')).toMatch(/^WAKE-SVC-ABCDE-[A-Z2-7]{13}$/);
    expect(longest.service(key, 'TCP')).toHaveLength(28);
    expect(longest.endpoint(key, 'TCP', endpoints[0]!)).toHaveLength(28);
    expect(names.service(key, 'TCP')).toBe(svc);
    expect(names.service(key, 'UDP')).not.toBe(svc);
    expect(new Set(sep).size).toBe(3);
    expect(kernelChainNames().service(key, 'TCP')).toMatch(/^WAKE-SVC-[A-Z2-7]{13}$/);
  });

  it('an instance owns its own chains only: not another id’s, not the id-less instance’s', () => {
    const plain = kernelChainNames();
    const other = kernelChainNames('t2');
    expect(names.owns(svc)).toBe(true);
    expect(names.owns(sep[0]!)).toBe(true);
    expect(names.owns(other.service(key, 'TCP'))).toBe(false);
    expect(names.owns(plain.service(key, 'TCP'))).toBe(false);
    expect(plain.owns(svc)).toBe(false);
    expect(plain.owns(plain.endpoint(key, 'TCP', endpoints[0]!))).toBe(true);
    expect(names.owns('KUBE-SVC-ABCDEFGHIJKLMNOP')).toBe(false);
  });
});

describe('iptables mode rules', () => {
  it('service chain: masquerade mark, then an nth cascade over the endpoints (round robin over new connections), the last unconditional', () => {
    const [s, ...eps] = serviceChainRules(names, key, 'TCP', { endpoints });
    expect(s!.chain).toBe(svc);
    expect(s!.rules).toEqual([
      `-A ${svc} -m comment --comment "${key}" -j MARK --or-mark 0x4000`,
      `-A ${svc} -m comment --comment "${key} -> 172.17.0.5:8080" -m statistic --mode nth --every 3 --packet 0 -j ${sep[0]}`,
      `-A ${svc} -m comment --comment "${key} -> 172.17.0.6:8080" -m statistic --mode nth --every 2 --packet 0 -j ${sep[1]}`,
      `-A ${svc} -m comment --comment "${key} -> 172.17.0.7:8080" -j ${sep[2]}`,
    ]);
    expect(eps.map((e) => e.chain)).toEqual(sep);
    expect(eps[0]!.rules).toEqual([
      `-A ${sep[0]} -m comment --comment "${key}" -s 172.17.0.5/32 -j MARK --or-mark 0x4000`,
      `-A ${sep[0]} -m comment --comment "${key}" -p tcp -m tcp -j DNAT --to-destination 172.17.0.5:8080`,
    ]);
  });

  it('ClientIP affinity: a recent --rcheck per endpoint before the spread, and --set where the endpoint DNATs', () => {
    const [s, ...eps] = serviceChainRules(names, key, 'TCP', { endpoints, affinityTimeoutSeconds: 60 });
    expect(s!.rules.slice(1, 4)).toEqual(
      sep.map(
        (c, i) =>
          `-A ${svc} -m comment --comment "${key} -> ${endpoints[i]!.ip}:8080" -m recent --name ${c} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${c}`,
      ),
    );
    expect(s!.rules.slice(4).every((r) => !r.includes('recent'))).toBe(true);
    expect(eps[1]!.rules[1]).toBe(
      `-A ${sep[1]} -m comment --comment "${key}" -m recent --name ${sep[1]} --mask 255.255.255.255 --rsource --set -p tcp -m tcp -j DNAT --to-destination 172.17.0.6:8080`,
    );
  });

  it('one endpoint: no statistic match; UDP: DNAT per protocol', () => {
    const [s, e] = serviceChainRules(names, 'kube-system/dns:dns', 'UDP', {
      endpoints: [{ ip: '172.17.0.9', port: 53 }],
    });
    expect(s!.rules.at(-1)).not.toContain('statistic');
    expect(e!.rules[1]).toContain('-p udp -m udp -j DNAT --to-destination 172.17.0.9:53');
  });

  it('the container chain jumps to the service chain; the host chain and endpoint-less ports keep the proxy port', () => {
    const text = portalRulesText(
      chains,
      [portal(), portal({ key: 'ns/empty:', clusterIP: '10.96.0.21', proxyPort: 41001, kernel: undefined })],
      '172.17.0.1',
    );
    const lines = text.split('\n');
    expect(lines).toContain(
      `-A ${chains.container} -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "${key}" -j ${svc}`,
    );
    expect(lines).toContain(
      `-A ${chains.host} -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -m comment --comment "${key}" -j DNAT --to-destination 172.17.0.1:41000`,
    );
    expect(lines).toContain(
      `-A ${chains.container} -d 10.96.0.21/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/empty:" -j DNAT --to-destination 172.17.0.1:41001`,
    );
    // Declared (so flushed) before any rule, in one transaction with the masquerade chain.
    for (const c of [chains.postrouting, svc, ...sep])
      expect(lines.indexOf(`:${c} - [0:0]`)).toBeLessThan(lines.findIndex((l) => l.startsWith('-A')));
    expect(lines).toContain(
      `-A ${chains.postrouting} -m comment --comment "wake service traffic requiring SNAT" -j MASQUERADE`,
    );
    expect(kernelChainsIn(text, chains).sort()).toEqual([svc, ...sep].sort());
  });

  it('PortalManager deletes the chains of an endpoint that went away in the same restore, and only then', async () => {
    const restores: string[] = [];
    const net: HostNetwork = {
      save: async () => '',
      restore: async (t) => void restores.push(t),
      iptables: async () => undefined,
      ip: async () => '',
    };
    const m = new PortalManager(net, { instanceId: 't1', proxyAddress: '172.17.0.1' });
    await m.sync([portal()]);
    await m.sync([portal({ kernel: { endpoints: endpoints.slice(0, 2) } })]);
    const second = restores.at(-1)!.split('\n');
    expect(second).toContain(`:${sep[2]} - [0:0]`);
    expect(second).toContain(`-X ${sep[2]}`);
    expect(second.filter((l) => l.startsWith('-X'))).toHaveLength(1);
    expect(second.indexOf(`-X ${sep[2]}`)).toBeGreaterThan(second.findLastIndex((l) => l.startsWith('-A')));
    await m.sync([portal({ kernel: undefined })]);
    expect(
      restores
        .at(-1)!
        .split('\n')
        .filter((l) => l.startsWith('-X')),
    ).toEqual([`-X ${svc}`, `-X ${sep[0]}`, `-X ${sep[1]}`]);
    await m.sync([portal({ kernel: undefined })]);
    expect(restores).toHaveLength(3);
  });

  it('leftovers after a crash: the POSTROUTING jump and every service and endpoint chain, none of another instance', () => {
    const other = portalChains('t2');
    const saved = [
      '*nat',
      `:${chains.postrouting} - [0:0]`,
      `:${svc} - [0:0]`,
      `:${sep[0]} - [0:0]`,
      `:${other.kernel.service(key, 'TCP')} - [0:0]`,
      `-A POSTROUTING -m comment --comment "wake proxy t1" -j ${chains.postrouting}`,
      `-A POSTROUTING -m comment --comment "wake proxy t2" -j ${other.postrouting}`,
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      `-A ${svc} -j ${sep[0]}`,
      'COMMIT',
    ].join('\n');
    expect(leftovers(saved, chains)).toEqual({
      deletes: [
        [
          '-t',
          'nat',
          '-D',
          'POSTROUTING',
          '-m',
          'comment',
          '--comment',
          'wake proxy t1',
          '-j',
          chains.postrouting,
        ],
      ],
      chains: [chains.postrouting, svc, sep[0]],
    });
  });
});
