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
  serviceRangeRejects,
} from './portal-rules.js';

export interface PortalManagerOptions {
  /** Names this instance's chains (see portalChains). */
  instanceId?: string;
  /** Where the proxy ports listen: the bridge gateway, reachable from pods and from the host. */
  proxyAddress: string;
  /** The service range: what no portal catches there is refused (see serviceRangeRejects), not sent out. */
  serviceCidr?: string;
  onTrouble?: (what: string, e: Error) => void;
}

/**
 * This proxy instance's footprint on the host's network: its portal chains, its POSTROUTING
 * chain and (iptables mode) its service and endpoint chains, the jump rules into the first
 * three (first in PREROUTING, OUTPUT and POSTROUTING, ahead of Docker's), and the filter rules
 * that refuse the rest of the service range. start() removes what a crashed instance with the
 * same id left; stop() removes everything it made and nothing else.
 */
export class PortalManager {
  readonly chains: PortalChains;
  private applied?: string;
  /** Service and endpoint chains the last restore left in the table: deleted by the next sync that no longer wants them. */
  private kernelChains: string[] = [];
  private rejecting = false;
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
    const cidr = this.o.serviceCidr;
    if (cidr) {
      await this.removeRejects(cidr);
      await this.removeOldBlackhole(cidr);
      for (const { chain, rule } of serviceRangeRejects(this.chains, cidr))
        await this.net.iptables(['-t', 'filter', '-I', chain, '1', ...rule]);
      this.rejecting = true;
    }
  }

  /**
   * Puts back what someone else removed (a flushed nat table, a deleted jump rule): the jumps
   * are checked with -C and inserted again when missing, and the chains are rewritten on the
   * next sync. Upstream's proxier re-ensured its chains on every periodic sync the same way.
   */
  async repair(): Promise<void> {
    for (const { chain, rule } of jumpRules(this.chains)) {
      if (await this.present('nat', chain, rule)) continue;
      this.o.onTrouble?.(
        'portal rules',
        new Error(`the jump from ${chain} to this proxy's chain was gone; put back`),
      );
      // A missing chain is made again by the restore, which must come before the jump to it.
      this.applied = undefined;
      await this.net.restore(portalRulesText(this.chains, [], this.o.proxyAddress));
      await this.net.iptables(['-t', 'nat', '-I', chain, '1', ...rule]);
    }
    if (this.rejecting && this.o.serviceCidr) {
      for (const { chain, rule } of serviceRangeRejects(this.chains, this.o.serviceCidr)) {
        if (await this.present('filter', chain, rule)) continue;
        this.o.onTrouble?.(
          'portal rules',
          new Error(`the rule refusing the rest of the service range in filter ${chain} was gone; put back`),
        );
        await this.net.iptables(['-t', 'filter', '-I', chain, '1', ...rule]);
      }
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

  /** Removes the jump rules, the chains and the refusing rules; every step is tried, the first failure thrown. */
  async stop(): Promise<void> {
    const failures: Error[] = [];
    await this.removeChains().catch((e: Error) => failures.push(e));
    if (this.rejecting && this.o.serviceCidr)
      await this.removeRejects(this.o.serviceCidr)
        .then(() => (this.rejecting = false))
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

  /** Whether `rule` is in `chain` (iptables -C). */
  private present(table: 'nat' | 'filter', chain: string, rule: readonly string[]): Promise<boolean> {
    return this.net.iptables(['-t', table, '-C', chain, ...rule]).then(
      () => true,
      () => false,
    );
  }

  /** Deletes this instance's refusing rules, each as often as it is there (a crash may have left it). */
  private async removeRejects(cidr: string): Promise<void> {
    for (const { chain, rule } of serviceRangeRejects(this.chains, cidr)) {
      for (let i = 0; i < MAX_COPIES && (await this.present('filter', chain, rule)); i++)
        await this.net.iptables(['-t', 'filter', '-D', chain, ...rule]);
    }
  }

  /**
   * Earlier versions blackholed the service range with a route, which a crash left behind; it
   * fails the host's connections to every ClusterIP, so it goes.
   */
  private async removeOldBlackhole(cidr: string): Promise<void> {
    const existing = await this.net.ip(['route', 'show', 'type', 'blackhole', 'exact', cidr]);
    if (!existing.trim()) return;
    await this.net.ip(['route', 'del', 'blackhole', cidr]);
    this.o.onTrouble?.(
      'service range',
      new Error(
        `removed a blackhole route for ${cidr} an earlier proxy left: it kept the host from every ClusterIP`,
      ),
    );
  }
}

/** Copies of one rule removed at most: iptables -C answers the same for a rule that cannot go. */
const MAX_COPIES = 16;

/** The first IPv4 address of an interface (`ip -4 -o addr show dev <name>`), e.g. docker0's gateway. */
export async function interfaceAddress(net: HostNetwork, name: string): Promise<string> {
  const out = await net.ip(['-4', '-o', 'addr', 'show', 'dev', name]);
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
  if (!m)
    throw new Error(`the interface ${name} has no IPv4 address: the proxy has no address pods reach it at`);
  return m[1]!;
}
