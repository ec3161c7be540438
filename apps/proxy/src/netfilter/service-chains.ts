import { createHash } from 'node:crypto';

import { type Protocol } from '../service-ports.js';

/**
 * kube-proxy's iptables mode (pkg/proxy/iptables/proxier.go) for pods' traffic to a ClusterIP:
 * the kernel DNATs each new connection straight to an endpoint, so no byte passes through Node.
 * A service chain per service port spreads new connections over endpoint chains; each endpoint
 * chain DNATs to its endpoint. This file only writes rules; PortalManager applies them.
 */

/** The bit in the packet mark that asks this proxy's POSTROUTING chain to MASQUERADE (upstream KUBE-MARK-MASQ's 0x4000). */
export const MASQ_MARK = '0x4000';

/** Where the kernel sends pods' connections to one ClusterIP:port in iptables mode. */
export interface KernelRoute {
  endpoints: readonly { ip: string; port: number }[];
  /** sessionAffinity ClientIP: seconds a client stays with its endpoint; absent: no affinity. */
  affinityTimeoutSeconds?: number;
}

/** The names of the chains of one instance in iptables mode: ≤ 28 characters, told apart from other instances'. */
export interface KernelChainNames {
  /** A service port's chain (upstream KUBE-SVC-<hash>). */
  service(key: string, protocol: Protocol): string;
  /** An endpoint's chain (upstream KUBE-SEP-<hash>). */
  endpoint(key: string, protocol: Protocol, endpoint: { ip: string; port: number }): string;
  /** Is this one of this instance's service or endpoint chains (found again after a crash)? */
  owns(chain: string): boolean;
}

/** Hash characters in a chain name: "WAKE-SVC-" + id (≤ 5) + "-" + 13 = 28 at most. */
const HASH_LENGTH = 13;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first HASH_LENGTH base32 characters of sha256(text), as upstream's portProtoHash (16 there). */
function chainHash(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < HASH_LENGTH) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === HASH_LENGTH) break;
  }
  return out;
}

/**
 * Chain names of an instance (its id already validated by portalChains). Without an id the
 * names are WAKE-SVC-<hash>, with one WAKE-SVC-<ID>-<hash>; the hash has no '-', so the two
 * patterns never match each other's chains and an instance never removes another's.
 */
export function kernelChainNames(instanceId = ''): KernelChainNames {
  const id = instanceId ? `${instanceId.toUpperCase()}-` : '';
  const pattern = new RegExp(`^WAKE-(SVC|SEP)-${id}[A-Z2-7]{${HASH_LENGTH}}$`);
  return {
    service: (key, protocol) => `WAKE-SVC-${id}${chainHash(`${key}/${protocol}`)}`,
    endpoint: (key, protocol, e) => `WAKE-SEP-${id}${chainHash(`${key}/${protocol}/${e.ip}:${e.port}`)}`,
    owns: (chain) => pattern.test(chain),
  };
}

/**
 * The POSTROUTING chain (upstream's KUBE-POSTROUTING): marked packets are MASQUERADEd and the
 * mark cleared, the rest returned untouched. Why it is needed with Docker: a pod's connection to
 * a ClusterIP DNATed to a pod on the same bridge would be answered straight over the bridge
 * (L2, source the backend's own address) to a client that expects the ClusterIP, and dropped —
 * unless the host is the source the backend sees. Docker's own `-s 172.17.0.0/16 ! -o docker0
 * -j MASQUERADE` does not cover it (the packet leaves by docker0), so this chain does; the jump
 * to it is first in POSTROUTING, and unmarked packets fall through to Docker's rules unchanged.
 */
export function postroutingRules(chain: string): string[] {
  return [
    `-A ${chain} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    // Cleared so a packet re-entering netfilter (another hop through the host) is not masqueraded twice.
    `-A ${chain} -j MARK --xor-mark ${MASQ_MARK}`,
    `-A ${chain} -m comment --comment "wake service traffic requiring SNAT" -j MASQUERADE`,
  ];
}

/**
 * One service port's chains: the service chain and an endpoint chain per endpoint, as
 * `{ chain, rules }` (rules as iptables-restore lines). Endpoints in the order given.
 */
export function serviceChainRules(
  names: KernelChainNames,
  key: string,
  protocol: Protocol,
  route: KernelRoute,
): { chain: string; rules: string[] }[] {
  const proto = protocol.toLowerCase();
  const svc = names.service(key, protocol);
  const seps = route.endpoints.map((e) => ({ e, chain: names.endpoint(key, protocol, e) }));
  const comment = (what: string) => `-m comment --comment "${what}"`;
  // Every connection from the bridge is masqueraded (see postroutingRules); upstream marks only
  // those not from the pod CIDR, because its pods' replies always pass the node's bridge netfilter.
  const svcRules = [`-A ${svc} ${comment(key)} -j MARK --or-mark ${MASQ_MARK}`];
  const affinity = route.affinityTimeoutSeconds;
  if (affinity !== undefined)
    for (const { e, chain } of seps)
      svcRules.push(
        `-A ${svc} ${comment(`${key} -> ${e.ip}:${e.port}`)} -m recent --name ${chain} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinity} --reap -j ${chain}`,
      );
  // nat sees only the first packet of a connection, so nth over packets here is round robin over
  // new connections: rule i takes every (n-i)th of what the rules before it left, the last takes
  // the rest. Upstream spreads with --mode random --probability 1/(n-i) instead; nth is the
  // userspace proxy's round robin, which the tests and users of this proxy rely on.
  seps.forEach(({ e, chain }, i) => {
    const left = seps.length - i;
    const spread = left > 1 ? ` -m statistic --mode nth --every ${left} --packet 0` : '';
    svcRules.push(`-A ${svc} ${comment(`${key} -> ${e.ip}:${e.port}`)}${spread} -j ${chain}`);
  });
  const result = [{ chain: svc, rules: svcRules }];
  for (const { e, chain } of seps) {
    const setAffinity =
      affinity !== undefined ? ` -m recent --name ${chain} --mask 255.255.255.255 --rsource --set` : '';
    result.push({
      chain,
      rules: [
        // Hairpin: a pod reaching itself through its Service (upstream's endpoint chain, same rule).
        `-A ${chain} ${comment(key)} -s ${e.ip}/32 -j MARK --or-mark ${MASQ_MARK}`,
        `-A ${chain} ${comment(key)}${setAffinity} -p ${proto} -m ${proto} -j DNAT --to-destination ${e.ip}:${e.port}`,
      ],
    });
  }
  return result;
}
