import { describe, expect, it } from '@jest/globals';

import { intToIp } from '@app/api';

import { parseCidr, SimIpam } from './sim-ipam.js';

describe('SimIpam', () => {
  it('gives node n the n+1-th node address and the n-th /24 of the pod range', () => {
    const ipam = new SimIpam();
    expect(ipam.nodeIP(0)).toBe('172.16.0.1');
    expect(ipam.nodeIP(300)).toBe('172.16.1.45');
    expect(ipam.podCidr(0)).toBe('10.0.0.0/24');
    expect(ipam.podCidr(257)).toBe('10.1.1.0/24');
    expect(ipam.capacity).toBe(65_536);
  });

  it('hands each pod uid one address of its node’s /24, the same one when asked again', () => {
    const ipam = new SimIpam();
    expect(ipam.podIP(3, 'a')).toBe('10.0.3.1');
    expect(ipam.podIP(3, 'b')).toBe('10.0.3.2');
    expect(ipam.podIP(3, 'a')).toBe('10.0.3.1');
    expect(ipam.podIP(4, 'a')).toBe('10.0.4.1');
  });

  it('reuses released addresses and says when a /24 is full (.1–.254)', () => {
    const ipam = new SimIpam();
    for (let i = 0; i < 254; i++) expect(ipam.podIP(0, `p${i}`)).toBe(`10.0.0.${i + 1}`);
    expect(ipam.podIP(0, 'one-too-many')).toBeUndefined();
    ipam.release(0, 'p41');
    expect(ipam.podIP(0, 'one-too-many')).toBe('10.0.0.42');
  });

  it('keeps the addresses pods already carry after a restart, and never hands them out again', () => {
    const ipam = new SimIpam();
    ipam.adopt(1, 'old', '10.0.1.3');
    expect(ipam.podIP(1, 'old')).toBe('10.0.1.3');
    const fresh = [ipam.podIP(1, 'x'), ipam.podIP(1, 'y'), ipam.podIP(1, 'z')];
    expect(fresh).toEqual(['10.0.1.2', '10.0.1.1', '10.0.1.4']);
  });

  it('refuses node indexes outside its ranges and reads CIDRs strictly', () => {
    const ipam = new SimIpam({ podCidr: '10.8.0.0/16', nodeCidr: '192.168.0.0/24' });
    expect(ipam.capacity).toBe(254);
    expect(() => ipam.nodeIP(254)).toThrow(RangeError);
    expect(parseCidr('10.1.2.3/8')).toEqual({ base: parseCidr('10.0.0.0/8').base, prefix: 8 });
    expect(intToIp(parseCidr('10.1.2.0/24').base)).toBe('10.1.2.0');
    expect(() => parseCidr('10.0.0.0')).toThrow(/not an IPv4 CIDR/);
    for (const bad of ['10.0.0.0/33', '300.0.0.0/8', '10.0.0/8', '10.0.0.0/8/1', '10.0.0.0/x'])
      expect(() => parseCidr(bad)).toThrow(/not an IPv4 CIDR/);
  });
});
