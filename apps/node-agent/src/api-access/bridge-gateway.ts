import { isIPv4 } from 'node:net';

import type Docker from 'dockerode';

/**
 * The gateway address of a Docker network (`docker network inspect bridge`: IPAM.Config[].Gateway):
 * the host's own address on that bridge, which the network's containers reach the host at.
 * IPv4 first, as containers on the default bridge have an IPv4 address and maybe no IPv6 one.
 */
export async function dockerBridgeGateway(docker: Docker, network = 'bridge'): Promise<string> {
  const info = await docker.getNetwork(network).inspect();
  const gateways = (info.IPAM?.Config ?? []).map((c) => c.Gateway).filter((g): g is string => !!g);
  const gateway = gateways.find((g) => isIPv4(g)) ?? gateways[0];
  if (!gateway)
    throw new Error(
      `the Docker network ${JSON.stringify(network)} has no gateway address (driver ${info.Driver}): pods on it cannot reach the host`,
    );
  return gateway;
}
