import { describe, expect, it } from '@jest/globals';

import { networkGateway } from './bridge-gateway.js';

describe('networkGateway (docker network inspect → the host address on the bridge)', () => {
  it('takes the IPv4 gateway the IPAM config names, before an IPv6 one', () => {
    const info = {
      IPAM: {
        Config: [
          { Subnet: 'fd00::/64', Gateway: 'fd00::1' },
          { Subnet: '172.18.0.0/16', Gateway: '172.18.0.254' },
        ],
      },
    };
    expect(networkGateway('bridge', info)).toBe('172.18.0.254');
  });

  it('falls back to the subnet’s first address when the config names no gateway (a bridge dockerd found up)', () => {
    expect(networkGateway('bridge', { IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } })).toBe('172.17.0.1');
    expect(networkGateway('bridge', { IPAM: { Config: [{ Subnet: '10.1.2.64/26' }] } })).toBe('10.1.2.65');
  });

  it('prefers a named gateway to a derived one, and refuses a network with neither', () => {
    const info = {
      IPAM: { Config: [{ Subnet: '172.17.0.0/16' }, { Subnet: '10.0.0.0/8', Gateway: '10.0.0.9' }] },
    };
    expect(networkGateway('bridge', info)).toBe('10.0.0.9');
    expect(() => networkGateway('none', { Driver: 'null', IPAM: { Config: [] } })).toThrow(
      'the Docker network "none" has no gateway address (driver null)',
    );
  });
});
