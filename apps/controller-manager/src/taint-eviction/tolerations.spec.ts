import { describe, expect, it } from '@jest/globals';

import { matchingTolerations, minTolerationMs, noExecuteTaints } from './tolerations.js';

// After TestGetMinTolerationTime and the GetMatchingTolerations cases (taint_eviction_test.go,
// pkg/apis/core/v1/helper/helpers_test.go).
describe('minTolerationMs (getMinTolerationTime)', () => {
  it('is 0 without tolerations, and for a toleration of 0 or fewer seconds', () => {
    expect(minTolerationMs([])).toBe(0);
    expect(minTolerationMs([{ tolerationSeconds: 0 }])).toBe(0);
    expect(minTolerationMs([{ tolerationSeconds: -5 }, { tolerationSeconds: 10 }])).toBe(0);
  });
  it('is the shortest limit, ignoring unlimited tolerations', () => {
    expect(minTolerationMs([{ tolerationSeconds: 10 }, {}, { tolerationSeconds: 3 }])).toBe(3000);
  });
  it('is -1 (forever) when no toleration is limited', () => {
    expect(minTolerationMs([{ key: 'a' }, { key: 'b', tolerationSeconds: null }])).toBe(-1);
  });
});

describe('matchingTolerations (GetMatchingTolerations)', () => {
  const taints = [
    { key: 'a', value: 'x', effect: 'NoExecute' },
    { key: 'b', effect: 'NoExecute' },
  ];
  it('tolerates no taints with no tolerations, and not some taints with none', () => {
    expect(matchingTolerations([], [])).toEqual({ allTolerated: true, used: [] });
    expect(matchingTolerations(taints, [])).toEqual({ allTolerated: false, used: [] });
  });
  it('gives the first toleration matching each taint', () => {
    const ta = { key: 'a', operator: 'Equal', value: 'x', effect: 'NoExecute', tolerationSeconds: 5 };
    const tb = { key: 'b', operator: 'Exists' };
    const all = { operator: 'Exists', tolerationSeconds: 100 };
    expect(matchingTolerations(taints, [ta, tb, all])).toEqual({ allTolerated: true, used: [ta, tb] });
    expect(matchingTolerations(taints, [all])).toEqual({ allTolerated: true, used: [all, all] });
  });
  it('is not all tolerated when one taint is not (a value that differs)', () => {
    expect(
      matchingTolerations(taints, [
        { key: 'a', value: 'y' },
        { key: 'b', operator: 'Exists' },
      ]).allTolerated,
    ).toBe(false);
  });
  it('looks only at NoExecute taints', () => {
    expect(
      noExecuteTaints([
        { key: 'a', effect: 'NoSchedule' },
        { key: 'b', effect: 'NoExecute' },
      ]),
    ).toEqual([{ key: 'b', effect: 'NoExecute' }]);
  });
});
