import { describe, expect, it } from '@jest/globals';

import { parseMilli, parseValue } from '@app/api';

import { amount, resourcesFromList } from './resources.js';

describe('amount: quantities parsed once per string and parser', () => {
  it('gives each parser its own answer for the same string, again and again', () => {
    for (let round = 0; round < 3; round++) {
      expect(amount(parseMilli, '100m')).toBe(100);
      // The same string read as a whole value rounds up (upstream's Value()).
      expect(amount(parseValue, '100m')).toBe(1);
      expect(amount(parseValue, '500Mi')).toBe(500 * 1024 * 1024);
    }
  });

  it('counts an unreadable quantity as nothing, every time', () => {
    expect(amount(parseValue, '12 bananas')).toBe(0);
    expect(amount(parseValue, '12 bananas')).toBe(0);
  });

  it('stays right past its bound, for strings it dropped and ones it keeps', () => {
    for (let i = 0; i < 10_000; i++) expect(amount(parseMilli, `${i}m`)).toBe(i);
    expect(amount(parseMilli, '1')).toBe(1000);
    expect(amount(parseMilli, '5m')).toBe(5);
  });

  it('takes numbers from hand-written JSON as they are', () => {
    expect(resourcesFromList({ cpu: 2, memory: 1024 })).toMatchObject({ milliCPU: 2000, memory: 1024 });
  });
});
