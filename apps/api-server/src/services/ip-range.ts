import { ipToInt, parseIpv4Cidr } from '@app/api';

/** An IPv4 CIDR as a range of integers. */
export interface Ipv4Range {
  cidr: string;
  /** First and last usable address (network and broadcast excluded). */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Ipv4Range {
  const parsed = parseIpv4Cidr(cidr);
  if (!parsed || parsed.prefix < 8 || parsed.prefix > 30) throw new Error(`invalid service CIDR ${cidr}`);
  const { network, prefix } = parsed;
  return { cidr, first: network + 1, last: network + 2 ** (32 - prefix) - 2 };
}

export function inRange(r: Ipv4Range, ip: string): boolean {
  const n = ipToInt(ip);
  return n !== undefined && n >= r.first && n <= r.last;
}
