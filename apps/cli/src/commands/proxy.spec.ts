import { describe, expect, it } from '@jest/globals';

import { parseProxyMode } from './proxy.js';

describe('wake proxy --proxy-mode', () => {
  it('takes iptables or userspace; absent leaves the proxy its default', () => {
    expect(parseProxyMode('iptables')).toBe('iptables');
    expect(parseProxyMode('userspace')).toBe('userspace');
    expect(parseProxyMode(undefined)).toBeUndefined();
  });

  it('refuses anything else, naming the flag', () => {
    expect(() => parseProxyMode('ipvs')).toThrow(/--proxy-mode: want iptables or userspace, got "ipvs"/);
  });
});
