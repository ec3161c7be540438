import { type HostNetwork } from './host-network.js';
import {
  countRules,
  jumpRules,
  leftovers,
  type Portal,
  type PortalChains,
  portalChains,
  portalRulesText,
} from './portal-rules.js';

export interface PortalManagerOptions {
  /** Names this instance's chains (see portalChains). */
  instanceId?: string;
  /** Where the proxy ports listen: the bridge gateway, reachable from pods and from the host. */
  proxyAddress: string;
  /** The service range: a blackhole route for it, so traffic no rule catches is dropped, not sent out. */
  serviceCidr?: string;
  onTrouble?: (what: string, e: Error) => void;
}

/**
 * This proxy instance's footprint on the host's network: its two portal chains, the jump
 * rules into them (first in PREROUTING and OUTPUT, ahead of Docker's), and the blackhole route
 * for the service range. start() removes what a crashed instance with the same id left;
 * stop() removes everything it made and nothing else.
 */
export class PortalManager {
  readonly chains: PortalChains;
  private applied?: string;
  private routeAdded = false;
  private ruleCount = 0;

  constructor(
    private readonly net: HostNetwork,
    private readonly o: PortalManagerOptions,
  ) {
    this.chains = portalChains(o.instanceId);
  }

  /** Rules in this instance's chains now. */
  get rules(): number {
    return this.ruleCount;
  }

  async start(): Promise<void> {
    await this.removeChains();
    await this.sync([]);
    for (const { chain, rule } of jumpRules(this.chains))
      await this.net.iptables(['-t', 'nat', '-I', chain, '1', ...rule]);
    if (this.o.serviceCidr) await this.addBlackhole(this.o.serviceCidr);
  }

  /** Rewrites both chains when the portals changed (one iptables-restore: atomic per table). */
  async sync(portals: readonly Portal[]): Promise<boolean> {
    const text = portalRulesText(this.chains, portals, this.o.proxyAddress);
    if (text === this.applied) return false;
    await this.net.restore(text);
    this.applied = text;
    this.ruleCount = countRules(text);
    return true;
  }

  /** Removes the jump rules, the chains and the route; every step is tried, the first failure thrown. */
  async stop(): Promise<void> {
    const failures: Error[] = [];
    await this.removeChains().catch((e: Error) => failures.push(e));
    if (this.routeAdded && this.o.serviceCidr)
      await this.net
        .ip(['route', 'del', 'blackhole', this.o.serviceCidr])
        .then(() => (this.routeAdded = false))
        .catch((e: Error) => failures.push(e));
    this.applied = undefined;
    this.ruleCount = 0;
    if (failures.length) throw failures[0];
  }

  private async removeChains(): Promise<void> {
    const found = leftovers(await this.net.save('nat'), this.chains);
    for (const args of found.deletes) await this.net.iptables(args);
    for (const chain of found.chains) await this.net.iptables(['-t', 'nat', '-F', chain]);
    for (const chain of found.chains) await this.net.iptables(['-t', 'nat', '-X', chain]);
  }

  /** Adds the route; one already there (this instance's, left by a crash) is taken over. */
  private async addBlackhole(cidr: string): Promise<void> {
    try {
      await this.net.ip(['route', 'add', 'blackhole', cidr]);
    } catch (e) {
      const existing = await this.net.ip(['route', 'show', 'type', 'blackhole', 'exact', cidr]);
      if (!existing.trim()) throw e;
      this.o.onTrouble?.(
        'blackhole route',
        new Error(`a blackhole route for ${cidr} was already there; it is reused`),
      );
    }
    this.routeAdded = true;
  }
}

/** The first IPv4 address of an interface (`ip -4 -o addr show dev <name>`), e.g. docker0's gateway. */
export async function interfaceAddress(net: HostNetwork, name: string): Promise<string> {
  const out = await net.ip(['-4', '-o', 'addr', 'show', 'dev', name]);
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
  if (!m)
    throw new Error(`the interface ${name} has no IPv4 address: the proxy has no address pods reach it at`);
  return m[1]!;
}
