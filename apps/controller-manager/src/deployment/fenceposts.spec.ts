import { describe, expect, it } from '@jest/globals';

import { maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts, scaledValue } from './fenceposts.js';
import { deployment } from './test-objects.js';

describe('fenceposts (deployment_util.go)', () => {
  // TestResolveFenceposts.
  it.each([
    ['0', '0', 0, 0, 1],
    ['39%', '39%', 10, 4, 3],
    [undefined, '39%', 10, 0, 3],
    ['39%', undefined, 10, 4, 0],
    [undefined, undefined, 10, 0, 1],
    ['25%', '25%', 3, 1, 0],
    ['25%', '25%', 4, 1, 1],
    [1, 1, 4, 1, 1],
  ] as const)(
    'ResolveFenceposts(%p, %p, %p) = surge %p, unavailable %p',
    (s, u, desired, surge, unavailable) => {
      const parse = (v: string | number | undefined) =>
        typeof v === 'string' && !v.endsWith('%') ? Number(v) : v;
      expect(resolveFenceposts(parse(s), parse(u), desired)).toEqual({ surge, unavailable });
    },
  );

  it('refuses a string that is not a percentage', () => {
    expect(() => resolveFenceposts('oops', '39%', 10)).toThrow(
      'invalid value for IntOrString: invalid value "oops"',
    );
    expect(() => resolveFenceposts('55%', 'urg', 10)).toThrow('invalid value "urg"');
  });

  it('rounds surge up and unavailable down', () => {
    expect(scaledValue('33%', 10, true)).toBe(4);
    expect(scaledValue('33%', 10, false)).toBe(3);
  });

  it('MaxUnavailable is 0 for Recreate and for 0 replicas, and never above the replicas', () => {
    expect(maxUnavailable(deployment(10, { recreate: true }))).toBe(0);
    expect(maxUnavailable(deployment(0, { maxUnavailable: 2 }))).toBe(0);
    expect(maxUnavailable(deployment(2, { maxUnavailable: 5 }))).toBe(2);
    expect(maxSurge(deployment(10, { recreate: true }))).toBe(0);
    expect(maxSurge(deployment(10, { maxSurge: '25%' }))).toBe(3);
  });

  // TestNewRSNewReplicas.
  it.each([
    ['can not scale up: already at desired+maxSurge', false, 1, 5, 1, 5, 5],
    ['scale up to desired', false, 6, 2, 10, 5, 6],
    ['Recreate: straight to desired', true, 3, 1, 1, 1, 3],
  ] as const)('%s', (_name, recreate, desired, newReplicas, surge, oldReplicas, expected) => {
    const d = deployment(desired, { recreate, maxSurge: surge });
    expect(newRSNewReplicas(d, oldReplicas + newReplicas, newReplicas)).toBe(expected);
  });
});
