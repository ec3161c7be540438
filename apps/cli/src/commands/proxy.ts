import { isIPv4 } from 'node:net';

import { type ProxyConfig } from '../../../proxy/src/proxy.module.js';
import { runProxy } from '../../../proxy/src/run-proxy.js';

export type ProxyCommandOptions = Omit<ProxyConfig, 'connection'> & { kubeconfig: string };

/** `wake proxy`: the service proxy in this process until SIGTERM, which removes its rules. */
export function proxy(o: ProxyCommandOptions): Promise<number> {
  return runProxy(o);
}

/** `--nodeport-addresses a,b`: IPv4 addresses (upstream also takes CIDRs; Wake listens per address). */
export function parseNodePortAddresses(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const addresses = text
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of addresses)
    if (!isIPv4(a)) throw new Error(`--nodeport-addresses: want IPv4 addresses, got ${JSON.stringify(a)}`);
  return addresses;
}

/** `--service-cluster-ip-range`: an IPv4 CIDR, or empty/"none" for no blackhole route. */
export function parseServiceCidr(text: string | undefined): string | undefined {
  if (text === undefined) return '10.96.0.0/16';
  if (text === '' || text === 'none') return undefined;
  const [ip, bits] = text.split('/');
  if (!ip || !isIPv4(ip) || !/^\d+$/.test(bits ?? '') || Number(bits) > 32)
    throw new Error(
      `--service-cluster-ip-range: want an IPv4 CIDR such as 10.96.0.0/16, got ${JSON.stringify(text)}`,
    );
  return text;
}
