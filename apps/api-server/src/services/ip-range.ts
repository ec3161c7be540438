import { ipToInt } from '@app/api';

/** An IPv4 CIDR as a range of integers. */
export interface Ipv4Range {
  cidr: string;
  /** First and last usable address (network and broadcast excluded). */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Ipv4Range {
  const [ip, bitsText] = cidr.split('/');
  const base = ipToInt(ip);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30)
    throw new Error(`invalid service CIDR ${cidr}`);
  const size = 2 ** (32 - bits);
  const network = base - (base % size);
  return { cidr, first: network + 1, last: network + size - 2 };
}

export function inRange(r: Ipv4Range, ip: string): boolean {
  const n = ipToInt(ip);
  return n !== undefined && n >= r.first && n <= r.last;
}
