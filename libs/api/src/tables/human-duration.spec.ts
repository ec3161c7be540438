import { describe, expect, it } from '@jest/globals';

import { age, humanDuration } from './human-duration.js';

describe('humanDuration', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-1_000, '0s'],
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [(3 * 60 + 5) * 60_000, '3h5m'],
    [47 * 3_600_000, '47h'],
    [50 * 3_600_000, '2d2h'],
    [9 * 86_400_000, '9d'],
    [(3 * 365 + 4) * 86_400_000, '3y4d'],
    [9 * 365 * 86_400_000, '9y'],
  ])('%d ms is %s', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('says <unknown> without a timestamp', () => {
    expect(age(undefined)).toBe('<unknown>');
    expect(age('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:42Z'))).toBe('42s');
  });
});
