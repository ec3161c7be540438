import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { labelSelectorFromObject, matchesLabels } from '@app/api';

import { hasAnyLabel, selectorMatches } from './label-match.js';

const key = fc.constantFrom('a', 'b', 'c');
const value = fc.constantFrom('x', 'y', '');
const labels = fc.dictionary(key, value);
const selectorObject = fc.record(
  {
    matchLabels: fc.dictionary(key, value),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key,
          operator: fc.constantFrom('In', 'NotIn'),
          values: fc.array(value, { minLength: 1, maxLength: 2 }),
        }),
        fc.record({ key, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

describe('selectorMatches', () => {
  it('answers exactly as @app/api matchesLabels for any selector and label set', () => {
    fc.assert(
      fc.property(
        fc.option(selectorObject, { nil: undefined }),
        fc.option(labels, { nil: undefined }),
        (obj, set) => {
          const sel = labelSelectorFromObject(obj);
          expect(selectorMatches(sel, set)).toBe(matchesLabels(sel, set));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('matches nothing for a null selector and everything for an empty one', () => {
    expect(selectorMatches(labelSelectorFromObject(null), { a: 'x' })).toBe(false);
    expect(selectorMatches(labelSelectorFromObject({}), undefined)).toBe(true);
  });
});

describe('hasAnyLabel', () => {
  it('tells an empty label set from a non-empty one', () => {
    expect(hasAnyLabel({})).toBe(false);
    expect(hasAnyLabel({ a: '' })).toBe(true);
  });
});
