import { describe, expect, it } from '@jest/globals';

import { intToIp, ipToInt, parseIpv4Cidr } from './ipv4.js';

describe('IPv4 helpers', () => {
  it('converts dotted quads and integers both ways, refusing what is not an address', () => {
    expect(ipToInt('10.0.0.9')).toBe(10 * 2 ** 24 + 9);
    expect(intToIp(ipToInt('172.17.255.1') as number)).toBe('172.17.255.1');
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.x', '::1', '1.2.3.4.5'])
      expect(ipToInt(bad)).toBeUndefined();
  });

  it('parses a CIDR to its network address and prefix, refusing what is not one', () => {
    expect(parseIpv4Cidr('10.1.2.3/8')).toEqual({ network: ipToInt('10.0.0.0'), prefix: 8 });
    expect(parseIpv4Cidr('172.17.0.0/16')).toEqual({ network: ipToInt('172.17.0.0'), prefix: 16 });
    expect(parseIpv4Cidr('10.0.0.7/32')).toEqual({ network: ipToInt('10.0.0.7'), prefix: 32 });
    for (const bad of [
      '10.0.0.0',
      '10.0.0.0/33',
      '300.0.0.0/8',
      '10.0.0/8',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
      'fd00::/64',
    ])
      expect(parseIpv4Cidr(bad)).toBeUndefined();
  });
});
