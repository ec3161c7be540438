/** A dotted-quad IPv4 address as an integer; undefined when it is not one. */
export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** An integer as a dotted-quad IPv4 address. */
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** An IPv4 CIDR as its network address (an integer) and prefix length; undefined when it is not one. */
export function parseIpv4Cidr(cidr: string): { network: number; prefix: number } | undefined {
  const [address, prefixText, ...rest] = cidr.split('/');
  const ip = ipToInt(address);
  if (ip === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText ?? '')) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { network: ip - (ip % size), prefix };
}
