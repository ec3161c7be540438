import { describe, expect, it } from '@jest/globals';

import { labelSelectorFromObject, matchesLabels } from '@app/api';

import { hasAnyLabel } from './label-match.js';

describe('label selectors as the plugins read them', () => {
  it('a null selector matches nothing and an empty one everything', () => {
    expect(matchesLabels(labelSelectorFromObject(null), { a: 'x' })).toBe(false);
    expect(matchesLabels(labelSelectorFromObject({}), undefined)).toBe(true);
  });
});

describe('hasAnyLabel', () => {
  it('tells an empty label set from a non-empty one', () => {
    expect(hasAnyLabel({})).toBe(false);
    expect(hasAnyLabel({ a: '' })).toBe(true);
  });
});
