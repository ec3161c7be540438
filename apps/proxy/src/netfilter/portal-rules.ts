import { type Protocol } from '../service-ports.js';

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
}

export interface PortalChains {
  /** nat PREROUTING's target: traffic from pods (upstream KUBE-PORTALS-CONTAINER). */
  container: string;
  /** nat OUTPUT's target: traffic from the host (upstream KUBE-PORTALS-HOST). */
  host: string;
  /** The comment on this instance's jump rules, which is how a restarted instance finds them. */
  comment: string;
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
    comment: `wake proxy${instanceId ? ` ${instanceId}` : ''}`,
  };
}

/** The jump rules into the portal chains, inserted first in nat PREROUTING and OUTPUT. */
export function jumpRules(chains: PortalChains): { chain: 'PREROUTING' | 'OUTPUT'; rule: string[] }[] {
  const tag = ['-m', 'comment', '--comment', chains.comment];
  return [
    { chain: 'PREROUTING', rule: [...tag, '-j', chains.container] },
    { chain: 'OUTPUT', rule: [...tag, '-j', chains.host] },
  ];
}

/**
 * iptables-restore input (for --noflush) that declares both chains, which flushes them, and
 * fills them: traffic to each ClusterIP:port is DNATed to the proxy port on `proxyAddress`
 * (upstream's iptablesContainerPortalArgs / iptablesHostPortalArgs, DNAT flavour). Pods and
 * the host both go to the bridge gateway address: DNAT to 127.0.0.1 from PREROUTING would need
 * route_localnet, which opens the host's loopback to the bridge.
 */
export function portalRulesText(
  chains: PortalChains,
  portals: readonly Portal[],
  proxyAddress: string,
): string {
  const lines = ['*nat', `:${chains.container} - [0:0]`, `:${chains.host} - [0:0]`];
  for (const chain of [chains.container, chains.host])
    for (const p of portals) {
      const proto = p.protocol.toLowerCase();
      lines.push(
        [
          `-A ${chain} -d ${p.clusterIP}/32 -p ${proto} -m ${proto} --dport ${p.port}`,
          `-m comment --comment "${p.key}"`,
          `-j DNAT --to-destination ${proxyAddress}:${p.proxyPort}`,
        ].join(' '),
      );
    }
  lines.push('COMMIT', '');
  return lines.join('\n');
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
  const ours = new Set([chains.container, chains.host]);
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
