import { describe, expect, it } from '@jest/globals';

import { isQuantity, parseMilli, parseValue, QuantityFormatError } from './quantity.js';

describe('quantity parsing', () => {
  it.each([
    ['1', 1000],
    ['100m', 100],
    ['0.5', 500],
    ['.5', 500],
    ['1.', 1000],
    ['2.25', 2250],
    ['0.1m', 1], // rounded up, as MilliValue() does
    ['1500u', 2],
    ['1e3', 1_000_000],
    ['1E-3', 1],
    ['+3', 3000],
    ['-100m', -100],
    ['-0.1m', -1], // away from zero
    [0.25, 250],
    [2, 2000],
  ])('parseMilli(%p) = %p', (input, expected) => {
    expect(parseMilli(input)).toBe(expected);
  });

  it.each([
    ['128974848', 128974848],
    ['129e6', 129000000],
    ['129M', 129000000],
    ['123Mi', 123 * 1024 * 1024],
    ['1.5Gi', 1610612736],
    ['1Ki', 1024],
    ['2Ti', 2 * 1024 ** 4],
    ['1k', 1000],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18], // a bare E is exa, not an exponent
    ['1Ei', 2 ** 60],
    ['500n', 1], // rounded up, as Value() does
    ['0', 0],
    ['0.4', 1],
    ['-1.5', -2],
    ['110', 110],
    [1e21, 1e21],
    [64, 64],
  ])('parseValue(%p) = %p', (input, expected) => {
    expect(parseValue(input)).toBe(expected);
  });

  it.each(['', ' 1', '1 ', 'Ki', '1Kb', '1.2.3', '1e', '1ki', '--1', '1KiB', 'abc', '1e1000', '0x10'])(
    'rejects %p with a clear error',
    (input) => {
      expect(() => parseValue(input)).toThrow(QuantityFormatError);
      expect(() => parseMilli(input)).toThrow(`invalid quantity ${JSON.stringify(input)}`);
      expect(isQuantity(input)).toBe(false);
    },
  );

  it('rejects non-finite numbers and accepts well-formed quantities', () => {
    expect(() => parseValue(Number.NaN)).toThrow(QuantityFormatError);
    expect(() => parseValue(Number.POSITIVE_INFINITY)).toThrow(QuantityFormatError);
    expect(isQuantity('250Mi')).toBe(true);
    expect(isQuantity(3)).toBe(true);
    expect(isQuantity(null)).toBe(false);
  });
});
