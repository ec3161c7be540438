import { describe, expect, it } from '@jest/globals';

import { leaseRequestTimeoutMs } from './leader-elector.js';

describe('leaseRequestTimeoutMs (client-go NewFromKubeconfig: max(1 s, renewDeadline / 2))', () => {
  it('gives a request half the renew deadline', () => {
    expect(leaseRequestTimeoutMs(10_000)).toBe(5000);
    expect(leaseRequestTimeoutMs(4000)).toBe(2000);
    expect(leaseRequestTimeoutMs()).toBe(5000);
  });

  it('gives at least a second, but never more than the deadline', () => {
    expect(leaseRequestTimeoutMs(1500)).toBe(1000);
    expect(leaseRequestTimeoutMs(700)).toBe(700);
  });
});
