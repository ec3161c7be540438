import { isIPv4 } from 'node:net';

import type Docker from 'dockerode';

import { intToIp, parseIpv4Cidr } from '@app/api';

/** The part of `docker network inspect` the gateway is read from. */
export interface NetworkIpam {
  Driver?: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
}

/**
 * The gateway address of a Docker network (`docker network inspect bridge`: IPAM.Config[].Gateway):
 * the host's own address on that bridge, which the network's containers reach the host at.
 * IPv4 first, as containers on the default bridge have an IPv4 address and maybe no IPv6 one.
 */
export async function dockerBridgeGateway(docker: Docker, network = 'bridge'): Promise<string> {
  return networkGateway(network, (await docker.getNetwork(network).inspect()) as NetworkIpam);
}

/**
 * A config without a Gateway gets the subnet's first address, as Docker's default IPAM assigns
 * it: an engine that found its bridge already up (dockerd restarted on a machine where docker0
 * kept its address) reports the default bridge with only its Subnet.
 */
export function networkGateway(network: string, info: NetworkIpam): string {
  const configs = info.IPAM?.Config ?? [];
  const gateways = [
    ...configs.map((c) => c.Gateway),
    ...configs.map((c) => (c.Subnet ? firstIPv4Host(c.Subnet) : undefined)),
  ].filter((g): g is string => !!g);
  const gateway = gateways.find((g) => isIPv4(g)) ?? gateways[0];
  if (!gateway)
    throw new Error(
      `the Docker network ${JSON.stringify(network)} has no gateway address (driver ${info.Driver}): pods on it cannot reach the host`,
    );
  return gateway;
}

/** The first host address of an IPv4 CIDR (`172.17.0.0/16` → `172.17.0.1`); undefined for IPv6 or /31–/32. */
function firstIPv4Host(cidr: string): string | undefined {
  const parsed = parseIpv4Cidr(cidr);
  return parsed && parsed.prefix <= 30 ? intToIp(parsed.network + 1) : undefined;
}
