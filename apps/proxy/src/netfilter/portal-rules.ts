import { type Protocol } from '../service-ports.js';
import {
  type KernelChainNames,
  kernelChainNames,
  type KernelRoute,
  postroutingRules,
  serviceChainRules,
} from './service-chains.js';

/** iptables' limit on a chain name (XT_EXTENSION_MAXNAMELEN - 1). */
const MAX_CHAIN_NAME = 28;

/** One ClusterIP:port a proxy port stands behind (upstream's portal). */
export interface Portal {
  /** The service port's key, written as the rule's comment. */
  key: string;
  clusterIP: string;
  port: number;
  protocol: Protocol;
  /** Where the proxy listens for this service port. */
  proxyPort: number;
  /**
   * iptables mode: pods' traffic is DNATed by the kernel straight to these endpoints (the host
   * chain still goes to the proxy port). Absent: pods' traffic goes to the proxy port too.
   */
  kernel?: KernelRoute;
}

export interface PortalChains {
  /** nat PREROUTING's target: traffic from pods (upstream KUBE-PORTALS-CONTAINER). */
  container: string;
  /** nat OUTPUT's target: traffic from the host (upstream KUBE-PORTALS-HOST). */
  host: string;
  /** nat POSTROUTING's target: masquerades what the service chains marked (iptables mode). */
  postrouting: string;
  /** The comment on this instance's jump rules, which is how a restarted instance finds them. */
  comment: string;
  /** The names of the service and endpoint chains (iptables mode). */
  kernel: KernelChainNames;
}

/**
 * The chain names of one proxy instance. Several proxies share a host in tests, so each has
 * an instance id in its chain names; iptables allows 28 characters, which leaves the id 5.
 */
export function portalChains(instanceId = ''): PortalChains {
  if (instanceId && !/^[a-z0-9]{1,5}$/.test(instanceId))
    throw new RangeError(
      `instance id ${JSON.stringify(instanceId)}: want 1-5 characters of [a-z0-9] (iptables chain names are at most ${MAX_CHAIN_NAME} characters)`,
    );
  const suffix = instanceId ? `-${instanceId.toUpperCase()}` : '';
  return {
    container: `WAKE-PORTALS-CONTAINER${suffix}`,
    host: `WAKE-PORTALS-HOST${suffix}`,
    postrouting: `WAKE-POSTROUTING${suffix}`,
    comment: `wake proxy${instanceId ? ` ${instanceId}` : ''}`,
    kernel: kernelChainNames(instanceId),
  };
}

/**
 * The jump rules into the instance's chains, inserted first in nat PREROUTING, OUTPUT and
 * POSTROUTING (ahead of Docker's: its DOCKER chain would DNAT published ports first otherwise).
 */
export function jumpRules(
  chains: PortalChains,
): { chain: 'PREROUTING' | 'OUTPUT' | 'POSTROUTING'; rule: string[] }[] {
  const tag = ['-m', 'comment', '--comment', chains.comment];
  return [
    { chain: 'PREROUTING', rule: [...tag, '-j', chains.container] },
    { chain: 'OUTPUT', rule: [...tag, '-j', chains.host] },
    { chain: 'POSTROUTING', rule: [...tag, '-j', chains.postrouting] },
  ];
}

/**
 * What refuses traffic still addressed to the service range after the portals' DNAT (a port no
 * Service has, an address no Service holds), so it is not sent out of the machine: REJECT first
 * in filter OUTPUT (the host's) and FORWARD (pods'), as upstream's iptables mode rejects what
 * it cannot serve. Traffic a portal caught has the proxy's or an endpoint's address by then.
 * A route could not do this: a blackhole route fails the host's connect() before nat OUTPUT
 * runs, so the host could reach no ClusterIP at all.
 */
export function serviceRangeRejects(
  chains: PortalChains,
  serviceCidr: string,
): { chain: 'OUTPUT' | 'FORWARD'; rule: string[] }[] {
  const rule = ['-d', serviceCidr, '-m', 'comment', '--comment', chains.comment, '-j', 'REJECT'];
  return [
    { chain: 'OUTPUT', rule },
    { chain: 'FORWARD', rule },
  ];
}

/**
 * iptables-restore input (for --noflush) that declares the instance's chains, which flushes
 * them, and fills them. The host chain DNATs each ClusterIP:port to the proxy port on
 * `proxyAddress` (upstream's iptablesHostPortalArgs, DNAT flavour); so does the container chain
 * for a portal without a kernel route (userspace mode, no ready endpoint, a local backend).
 * Pods and the host both go to the bridge gateway address: DNAT to 127.0.0.1 from PREROUTING
 * would need route_localnet, which opens the host's loopback to the bridge. A portal with a
 * kernel route jumps to its service chain instead (iptables mode, see service-chains.ts).
 */
export function portalRulesText(
  chains: PortalChains,
  portals: readonly Portal[],
  proxyAddress: string,
): string {
  const kernelChains = new Map<string, string[]>();
  for (const p of portals)
    if (p.kernel && !kernelChains.has(chains.kernel.service(p.key, p.protocol)))
      for (const { chain, rules } of serviceChainRules(chains.kernel, p.key, p.protocol, p.kernel))
        kernelChains.set(chain, rules);
  const lines = ['*nat'];
  for (const chain of [chains.container, chains.host, chains.postrouting, ...kernelChains.keys()])
    lines.push(`:${chain} - [0:0]`);
  for (const chain of [chains.container, chains.host])
    for (const p of portals) {
      const proto = p.protocol.toLowerCase();
      const target =
        chain === chains.container && p.kernel
          ? `-j ${chains.kernel.service(p.key, p.protocol)}`
          : `-j DNAT --to-destination ${proxyAddress}:${p.proxyPort}`;
      lines.push(
        [
          `-A ${chain} -d ${p.clusterIP}/32 -p ${proto} -m ${proto} --dport ${p.port}`,
          `-m comment --comment "${p.key}"`,
          target,
        ].join(' '),
      );
    }
  lines.push(...postroutingRules(chains.postrouting));
  for (const rules of kernelChains.values()) lines.push(...rules);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * `text` (portalRulesText's) that also removes `gone`, service and endpoint chains an earlier
 * restore made and `text` no longer wants: declared (so flushed) with the others and deleted
 * after every rule, in the same transaction, as upstream's syncProxyRules does.
 */
export function deletingChains(text: string, gone: readonly string[]): string {
  if (gone.length === 0) return text;
  const lines = text.split('\n');
  lines.splice(
    lines.findIndex((l) => l !== '*nat' && !l.startsWith(':')),
    0,
    ...gone.map((c) => `:${c} - [0:0]`),
  );
  lines.splice(lines.lastIndexOf('COMMIT'), 0, ...gone.map((c) => `-X ${c}`));
  return lines.join('\n');
}

/** The service and endpoint chains a restore text declares (what the next sync may have to delete). */
export function kernelChainsIn(text: string, chains: PortalChains): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(':'))
    .map((l) => l.slice(1).split(' ')[0]!)
    .filter((c) => chains.kernel.owns(c));
}

/** Splits an iptables-save rule line into arguments, honouring double quotes. */
export function splitRule(line: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return args;
}

/**
 * What an instance left in `iptables-save -t nat` output: every rule (outside its own chains)
 * that jumps to one of its chains, as `-D` arguments, and which of its chains exist. Found by
 * target rather than by exact text, so a rule an older version wrote is found too.
 */
export function leftovers(saved: string, chains: PortalChains): { deletes: string[][]; chains: string[] } {
  const named = new Set([chains.container, chains.host, chains.postrouting]);
  const ours = { has: (chain: string) => named.has(chain) || chains.kernel.owns(chain) };
  const deletes: string[][] = [];
  const present: string[] = [];
  for (const line of saved.split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if (ours.has(name)) present.push(name);
      continue;
    }
    if (!line.startsWith('-A ')) continue;
    const args = splitRule(line);
    const from = args[1]!;
    const jump = args.indexOf('-j');
    if (ours.has(from) || jump < 0 || !ours.has(args[jump + 1]!)) continue;
    deletes.push(['-t', 'nat', '-D', ...args.slice(1)]);
  }
  return { deletes, chains: present };
}

/** How many rules the instance's chains hold (for the rules gauge). */
export function countRules(text: string): number {
  return text.split('\n').filter((l) => l.startsWith('-A ')).length;
}
