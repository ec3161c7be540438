import { type HostNetwork } from './host-network.js';
import {
  countRules,
  deletingChains,
  jumpRules,
  kernelChainsIn,
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
 * This proxy instance's footprint on the host's network: its portal chains, its POSTROUTING
 * chain and (iptables mode) its service and endpoint chains, the jump rules into the first
 * three (first in PREROUTING, OUTPUT and POSTROUTING, ahead of Docker's), and the blackhole route
 * for the service range. start() removes what a crashed instance with the same id left;
 * stop() removes everything it made and nothing else.
 */
export class PortalManager {
  readonly chains: PortalChains;
  private applied?: string;
  /** Service and endpoint chains the last restore left in the table: deleted by the next sync that no longer wants them. */
  private kernelChains: string[] = [];
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

  /**
   * Puts back what someone else removed (a flushed nat table, a deleted jump rule): the jumps
   * are checked with -C and inserted again when missing, and the chains are rewritten on the
   * next sync. Upstream's proxier re-ensured its chains on every periodic sync the same way.
   */
  async repair(): Promise<void> {
    for (const { chain, rule } of jumpRules(this.chains)) {
      const present = await this.net.iptables(['-t', 'nat', '-C', chain, ...rule]).then(
        () => true,
        () => false,
      );
      if (present) continue;
      this.o.onTrouble?.(
        'portal rules',
        new Error(`the jump from ${chain} to this proxy's chain was gone; put back`),
      );
      // A missing chain is made again by the restore, which must come before the jump to it.
      this.applied = undefined;
      await this.net.restore(portalRulesText(this.chains, [], this.o.proxyAddress));
      await this.net.iptables(['-t', 'nat', '-I', chain, '1', ...rule]);
    }
    this.applied = undefined;
  }

  /**
   * Rewrites the instance's chains when the portals changed: one iptables-restore (atomic per
   * table) writes the portal chains, the POSTROUTING chain and every service and endpoint
   * chain, and deletes those no longer wanted. An endpoint change costs one restore of this
   * instance's chains only, whatever else the table holds.
   */
  async sync(portals: readonly Portal[]): Promise<boolean> {
    const text = portalRulesText(this.chains, portals, this.o.proxyAddress);
    if (text === this.applied) return false;
    const wanted = kernelChainsIn(text, this.chains);
    const kept = new Set(wanted);
    await this.net.restore(
      deletingChains(
        text,
        this.kernelChains.filter((c) => !kept.has(c)),
      ),
    );
    this.applied = text;
    this.kernelChains = wanted;
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
    this.kernelChains = [];
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
