import { describe, expect, it } from '@jest/globals';

import {
  type IssuedToken,
  ServiceAccountTokenManager,
  type TokenRequestSpec,
  type TokenSource,
} from './token-manager.js';

/** Issues numbered tokens for `expirationSeconds` from the fake clock's now; can be made to fail. */
class FakeTokens implements TokenSource {
  calls: { namespace: string; serviceAccount: string; spec: TokenRequestSpec }[] = [];
  failing = false;
  constructor(private readonly clock: { now: number }) {}

  async requestToken(
    namespace: string,
    serviceAccount: string,
    spec: TokenRequestSpec,
  ): Promise<IssuedToken> {
    this.calls.push({ namespace, serviceAccount, spec });
    if (this.failing) throw new Error('the API server is away');
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    return {
      token: `token-${this.calls.length}`,
      expirationTimestamp: new Date(this.clock.now + expirationSeconds * 1000).toISOString(),
      expirationSeconds,
    };
  }
}

const spec = (uid = 'pod-1', expirationSeconds = 3600): TokenRequestSpec => ({
  expirationSeconds,
  boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid },
});

describe('service account tokens (kubelet token manager)', () => {
  const setup = () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const source = new FakeTokens(clock);
    // No jitter: the thresholds are exact.
    const manager = new ServiceAccountTokenManager(source, { now: () => clock.now, jitter: () => 0 });
    return { clock, source, manager };
  };

  it('asks once, and again only after 80% of the lifetime', async () => {
    const { clock, source, manager } = setup();
    expect((await manager.token('shop', 'builder', spec())).token).toBe('token-1');
    expect(source.calls).toEqual([{ namespace: 'shop', serviceAccount: 'builder', spec: spec() }]);
    clock.now += 2880 * 1000; // exactly 80% of an hour: still fresh
    expect((await manager.token('shop', 'builder', spec())).token).toBe('token-1');
    clock.now += 1000;
    expect((await manager.token('shop', 'builder', spec())).token).toBe('token-2');
    expect(source.calls).toHaveLength(2);
  });

  it('refreshes a long-lived token once it is 24 hours old', async () => {
    const { clock, manager } = setup();
    const week = 7 * 24 * 3600;
    expect((await manager.token('shop', 'builder', spec('pod-1', week))).token).toBe('token-1');
    clock.now += 24 * 3600 * 1000;
    expect((await manager.token('shop', 'builder', spec('pod-1', week))).token).toBe('token-1');
    clock.now += 1000;
    expect((await manager.token('shop', 'builder', spec('pod-1', week))).token).toBe('token-2');
  });

  it('keeps tokens apart per bound pod and lifetime, and forgets a pod’s', async () => {
    const { source, manager } = setup();
    await manager.token('shop', 'builder', spec('pod-1'));
    await manager.token('shop', 'builder', spec('pod-2'));
    await manager.token('shop', 'builder', spec('pod-1', 600));
    expect(source.calls).toHaveLength(3);
    manager.forgetPod('pod-1');
    expect((await manager.token('shop', 'builder', spec('pod-2'))).token).toBe('token-2');
    expect((await manager.token('shop', 'builder', spec('pod-1'))).token).toBe('token-4');
  });

  it('serves the old token while a refresh fails, and fails once it has expired', async () => {
    const { clock, source, manager } = setup();
    source.failing = true;
    await expect(manager.token('shop', 'builder', spec())).rejects.toThrow(
      'failed to fetch token: the API server is away',
    );
    source.failing = false;
    await manager.token('shop', 'builder', spec());
    source.failing = true;
    clock.now += 3000 * 1000;
    expect((await manager.token('shop', 'builder', spec())).token).toBe('token-2');
    clock.now += 600 * 1000;
    await expect(manager.token('shop', 'builder', spec())).rejects.toThrow('expired and refresh failed');
  });
});
