import { describe, expect, it } from '@jest/globals';

import { thrownStatus } from '@app/testing';
import {
  equalityTerm,
  formatLabelSelector,
  type LabelRequirement,
  labelSelectorFromObject,
  type LabelSelectorObject,
  matchesLabels,
  parseLabelSelector,
} from './label-selector.js';

function parseError(input: string): string {
  const err = thrownStatus(() => parseLabelSelector(input));
  expect(err.reason).toBe('BadRequest');
  expect(err.code).toBe(400);
  return err.message;
}

const req = (
  key: string,
  operator: LabelRequirement['operator'],
  values: string[] = [],
): LabelRequirement => ({
  key,
  operator,
  values,
});

// Upstream's wording, written out here (not imported) so the tests pin the exact text.
const NAME_REGEX =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end " +
  "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
  "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PREFIX_REGEX =
  "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
  "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const NAME_63 = 'a'.repeat(63);
const NAME_64 = 'a'.repeat(64);
const PREFIX_253 = [63, 63, 63, 61].map((n) => 'p'.repeat(n)).join('.');
const PREFIX_254 = `${PREFIX_253}p`;
const VALUE_63 = 'v'.repeat(63);
const VALUE_64 = 'v'.repeat(64);

describe('parseLabelSelector', () => {
  it.each<[string, LabelRequirement[]]>([
    ['', []],
    ['   \t\n ', []],
    ['x=a', [req('x', 'Equals', ['a'])]],
    ['x==a', [req('x', 'Equals', ['a'])]],
    ['x!=a', [req('x', 'NotEquals', ['a'])]],
    ['x in (b,a)', [req('x', 'In', ['a', 'b'])]],
    ['x notin (b,a)', [req('x', 'NotIn', ['a', 'b'])]],
    ['x', [req('x', 'Exists')]],
    ['!x', [req('x', 'DoesNotExist')]],
    ['x=A.b_c-9', [req('x', 'Equals', ['A.b_c-9'])]],
    ['example.com/app=web', [req('example.com/app', 'Equals', ['web'])]],
    ['a.b_c-D=1', [req('a.b_c-D', 'Equals', ['1'])]],
  ])('parses every operator: %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual({ requirements: expected });
  });

  it.each<[string, LabelRequirement[]]>([
    ['x=', [req('x', 'Equals', [''])]],
    ['x==', [req('x', 'Equals', [''])]],
    ['x!=', [req('x', 'NotEquals', [''])]],
    ['x=,y', [req('x', 'Equals', ['']), req('y', 'Exists')]],
    ['x in ()', [req('x', 'In', [''])]],
    ['x notin ()', [req('x', 'NotIn', [''])]],
    ['x in (a,)', [req('x', 'In', ['', 'a'])]],
    ['x in (,a)', [req('x', 'In', ['', 'a'])]],
    ['x in (a,,b)', [req('x', 'In', ['', 'a', 'b'])]],
    ['x in (,)', [req('x', 'In', [''])]],
    ['x in (a,a,b,a)', [req('x', 'In', ['a', 'b'])]],
  ])('accepts empty values where upstream does: %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual({ requirements: expected });
  });

  it.each<[string, LabelRequirement[]]>([
    ['in in (in)', [req('in', 'In', ['in'])]],
    ['notin notin (notin,in)', [req('notin', 'NotIn', ['in', 'notin'])]],
    ['x=in', [req('x', 'Equals', ['in'])]],
    ['in', [req('in', 'Exists')]],
    ['!notin', [req('notin', 'DoesNotExist')]],
  ])('treats in/notin as identifiers in key and value position: %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual({ requirements: expected });
  });

  it.each<[string, LabelRequirement[]]>([
    ['  x  =  a  ,  y  !=  b  ', [req('x', 'Equals', ['a']), req('y', 'NotEquals', ['b'])]],
    ['\tx\tin\t(\ta\t,\tb\t)\r\n', [req('x', 'In', ['a', 'b'])]],
    ['x in(a)', [req('x', 'In', ['a'])]],
    ['x notin(a),y', [req('x', 'NotIn', ['a']), req('y', 'Exists')]],
    ['!   x', [req('x', 'DoesNotExist')]],
    ['x ,y', [req('x', 'Exists'), req('y', 'Exists')]],
  ])('tolerates whitespace between tokens: %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual({ requirements: expected });
  });

  it('sorts requirements by key, keeping the written order for equal keys', () => {
    expect(parseLabelSelector('z,b=1,a!=2,m in (x),a=3').requirements).toEqual([
      req('a', 'NotEquals', ['2']),
      req('a', 'Equals', ['3']),
      req('b', 'Equals', ['1']),
      req('m', 'In', ['x']),
      req('z', 'Exists'),
    ]);
  });

  it.each<[string, string]>([
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['(x)', "found '(', expected: !, identifier, or 'end of string'"],
    ['x=a,', "found '', expected: identifier after ','"],
    ['x=a,,y', "found ',', expected: identifier after ','"],
    ['x=a y', "found 'y', expected: ',' or 'end of string'"],
    ['x=a=b', "found '=', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['!x in (a)', "found 'in', expected: ',' or 'end of string'"],
    ['x in (a) y', "found 'y', expected: ',' or 'end of string'"],
  ])('rejects selector-level syntax errors: %j', (input, message) => {
    expect(parseError(input)).toBe(message);
  });

  it.each<[string, string]>([
    ['!', "found '', expected: identifier"],
    ['!!x', "found '!', expected: identifier"],
    ['! =a', "found '=', expected: identifier"],
    ['x y', "found 'y', expected: in, notin, =, ==, !="],
    ['x!', "found '!', expected: in, notin, =, ==, !="],
    ['x (a)', "found '(', expected: in, notin, =, ==, !="],
    ['x>1', "found '>', expected: in, notin, =, ==, !="],
    ['x<1', "found '<', expected: in, notin, =, ==, !="],
    ['x in a', "found 'a' expected: '('"],
    ['x in', "found '' expected: '('"],
    ['x in (a', "found '', expected: ',' or ')'"],
    ['x in (a b)', "found 'b', expected: ',' or ')'"],
    ['x in (a,', "found '', expected: ',', or identifier"],
    ['x in (a,,)', "found ')', expected: ',', or identifier"],
    ['x in (a,=)', "found '=', expected: ',', or identifier"],
    ['x in (=)', "found '=', expected: ',', ')' or identifier"],
    ['x in (', "found '', expected: ',', ')' or identifier"],
    ['x===a', "found '=', expected: identifier"],
    ['x=(a)', "found '(', expected: identifier"],
    ['x!=!a', "found '!', expected: identifier"],
  ])('rejects requirement syntax errors: %j', (input, message) => {
    expect(parseError(input)).toBe(`unable to parse requirement: ${message}`);
  });

  describe('key validation', () => {
    it.each([
      ['a 63-byte name', NAME_63],
      ['a 253-byte prefix', `${PREFIX_253}/x`],
      ['the longest key', `${PREFIX_253}/${NAME_63}`],
      ['a single character', 'a'],
      ['a mixed-case name', 'My.Name_1-x'],
    ])('accepts %s', (_what, key) => {
      expect(parseLabelSelector(key).requirements).toEqual([req(key, 'Exists')]);
    });

    it.each<[string, string, string]>([
      ['a 64-byte name', NAME_64, 'name part must be no more than 63 bytes'],
      ['a 254-byte prefix', `${PREFIX_254}/x`, 'prefix part must be no more than 253 bytes'],
      ['an empty prefix', '/x', 'prefix part must be non-empty'],
      ['an empty name', 'x/', `name part must be non-empty; name part ${NAME_REGEX}`],
      ['an upper-case prefix', 'Example.com/x', PREFIX_REGEX],
      ['a prefix ending in a dot', 'example./x', PREFIX_REGEX],
      ['a name starting with a dash', '-x', `name part ${NAME_REGEX}`],
      ['a name ending with a dot', 'x.', `name part ${NAME_REGEX}`],
      ['a name with a colon', 'a:b', `name part ${NAME_REGEX}`],
      [
        'two slashes',
        'a/b/c',
        `a valid label key ${NAME_REGEX} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ],
    ])('rejects %s', (_what, key, detail) => {
      expect(parseError(`${key}=v`)).toBe(
        `unable to parse requirement: <nil>: Invalid value: "${key}": ${detail}`,
      );
    });

    it('counts bytes, not characters, and reports every failed rule', () => {
      const key = 'é'.repeat(32); // 64 bytes in UTF-8
      expect(parseError(key)).toBe(
        `unable to parse requirement: <nil>: Invalid value: "${key}": name part must be no more than 63 bytes; name part ${NAME_REGEX}`,
      );
    });

    it('quotes the bad key as Go does', () => {
      expect(parseError('a"b\\c\x01')).toBe(
        `unable to parse requirement: <nil>: Invalid value: "a\\"b\\\\c\\x01": name part ${NAME_REGEX}`,
      );
    });
  });

  describe('value validation', () => {
    it.each([
      ['a 63-byte value', VALUE_63],
      ['the empty value', ''],
      ['a mixed-case value', 'My.Value_1-x'],
    ])('accepts %s', (_what, value) => {
      expect(parseLabelSelector(`x=${value}`).requirements).toEqual([req('x', 'Equals', [value])]);
    });

    it.each<[string, string, string]>([
      ['a 64-byte value', VALUE_64, 'must be no more than 63 bytes'],
      ['a value starting with a dash', '-v', VALUE_REGEX],
      ['a value with a slash', 'a/b', VALUE_REGEX],
      ['a multi-byte value', 'é'.repeat(32), `must be no more than 63 bytes; ${VALUE_REGEX}`],
    ])('rejects %s', (_what, value, detail) => {
      expect(parseError(`x!=${value}`)).toBe(
        `unable to parse requirement: values[0][x]: Invalid value: "${value}": ${detail}`,
      );
    });

    it('indexes bad set values in sorted order', () => {
      expect(parseError('x in (ok,_bad)')).toBe(
        `unable to parse requirement: values[0][x]: Invalid value: "_bad": ${VALUE_REGEX}`,
      );
    });

    it('aggregates several bad values in brackets', () => {
      expect(parseError('x notin (_a,_b)')).toBe(
        'unable to parse requirement: [' +
          `values[0][x]: Invalid value: "_a": ${VALUE_REGEX}, ` +
          `values[1][x]: Invalid value: "_b": ${VALUE_REGEX}]`,
      );
    });
  });
});

describe('labelSelectorFromObject', () => {
  it.each<[string, LabelSelectorObject]>([
    ['an empty object', {}],
    ['empty lists', { matchLabels: {}, matchExpressions: [] }],
  ])('selects everything for %s', (_what, sel) => {
    const selector = labelSelectorFromObject(sel);
    expect(selector).toEqual({ requirements: [] });
    expect(matchesLabels(selector, { any: 'thing' })).toBe(true);
  });

  it.each([null, undefined])('selects nothing for %p, as upstream labels.Nothing()', (sel) => {
    const selector = labelSelectorFromObject(sel);
    expect(selector).toEqual({ requirements: [], matchNothing: true });
    expect(matchesLabels(selector, {})).toBe(false);
    expect(matchesLabels(selector, { any: 'thing' })).toBe(false);
    expect(formatLabelSelector(selector)).toBe('');
  });

  it('converts matchLabels and every expression operator, sorted by key', () => {
    const selector = labelSelectorFromObject({
      matchLabels: { tier: 'web', app: 'shop' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['b', 'a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'owner', operator: 'Exists', values: [] },
      ],
    });
    expect(selector.requirements).toEqual([
      req('app', 'Equals', ['shop']),
      req('canary', 'DoesNotExist'),
      req('env', 'NotIn', ['dev']),
      req('owner', 'Exists'),
      req('tier', 'Equals', ['web']),
      req('zone', 'In', ['a', 'b']),
    ]);
    expect(formatLabelSelector(selector)).toBe(
      'app=shop,!canary,env notin (dev),owner,tier=web,zone in (a,b)',
    );
  });

  it('accepts an empty matchLabels value', () => {
    expect(labelSelectorFromObject({ matchLabels: { a: '' } }).requirements).toEqual([
      req('a', 'Equals', ['']),
    ]);
  });

  it.each<[string, LabelSelectorObject, string]>([
    [
      'an unknown operator',
      { matchExpressions: [{ key: 'a', operator: 'Foo', values: ['x'] }] },
      '"Foo" is not a valid label selector operator',
    ],
    [
      'a lower-case operator',
      { matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] },
      '"in" is not a valid label selector operator',
    ],
    [
      'a selector-string operator',
      { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] },
      '"Equals" is not a valid label selector operator',
    ],
    [
      'In without values',
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      'NotIn with an empty list',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      'Exists with values',
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x', 'y'] }] },
      'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist',
    ],
    [
      'DoesNotExist with a value',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    ],
    [
      'a bad matchLabels key',
      { matchLabels: { 'a b': 'x' } },
      `key: Invalid value: "a b": name part ${NAME_REGEX}`,
    ],
    [
      'a 64-byte matchLabels key',
      { matchLabels: { [NAME_64]: 'x' } },
      `key: Invalid value: "${NAME_64}": name part must be no more than 63 bytes`,
    ],
    [
      'a 64-byte matchLabels value',
      { matchLabels: { app: VALUE_64 } },
      `values[0][app]: Invalid value: "${VALUE_64}": must be no more than 63 bytes`,
    ],
    [
      'a bad expression value, indexed as given',
      { matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', '-bad'] }] },
      `values[1][a]: Invalid value: "-bad": ${VALUE_REGEX}`,
    ],
    [
      'a bad key and a bad value together',
      { matchExpressions: [{ key: '/a', operator: 'In', values: ['-x'] }] },
      '[key: Invalid value: "/a": prefix part must be non-empty, ' +
        `values[0][/a]: Invalid value: "-x": ${VALUE_REGEX}]`,
    ],
  ])('rejects %s', (_what, sel, message) => {
    const err = thrownStatus(() => labelSelectorFromObject(sel));
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toBe(message);
  });
});

describe('matchesLabels', () => {
  type Labels = Record<string, string> | null | undefined;
  it.each<[string, Labels, boolean]>([
    ['x=a', { x: 'a' }, true],
    ['x=a', { x: 'b' }, false],
    ['x=a', {}, false],
    ['x=a', null, false],
    ['x==a', { x: 'a', y: 'b' }, true],
    ['x=', { x: '' }, true],
    ['x=', {}, false],
    ['x!=a', { x: 'a' }, false],
    ['x!=a', { x: 'b' }, true],
    ['x!=a', {}, true],
    ['x!=a', undefined, true],
    ['x!=', {}, true],
    ['x!=', { x: '' }, false],
    ['x in (a,b)', { x: 'b' }, true],
    ['x in (a,b)', { x: 'c' }, false],
    ['x in (a,b)', {}, false],
    ['x in ()', { x: '' }, true],
    ['x in ()', { x: 'a' }, false],
    ['x notin (a,b)', { x: 'a' }, false],
    ['x notin (a,b)', { x: 'c' }, true],
    ['x notin (a,b)', {}, true],
    ['x notin (a,b)', null, true],
    ['x', { x: '' }, true],
    ['x', { y: 'x' }, false],
    ['x', null, false],
    ['!x', {}, true],
    ['!x', null, true],
    ['!x', { x: '' }, false],
    ['', {}, true],
    ['', null, true],
    ['', { x: 'a' }, true],
    ['x,y=b', { x: '1', y: 'b' }, true],
    ['x,y=b', { y: 'b' }, false],
    ['x=a,x!=b', { x: 'a' }, true],
    ['x=a,x!=a', { x: 'a' }, false],
    ['constructor', {}, false],
    ['!constructor', {}, true],
    ['toString!=x', {}, true],
    ['hasOwnProperty in (x)', {}, false],
  ])('%j against %j is %p', (selector, labels, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });
});

describe('formatLabelSelector', () => {
  it.each<[string, string]>([
    ['', ''],
    ['x=a', 'x=a'],
    ['x==a', 'x=a'],
    ['x!=a', 'x!=a'],
    ['x', 'x'],
    ['!x', '!x'],
    ['x in (b,a,b)', 'x in (a,b)'],
    ['x notin (b,a)', 'x notin (a,b)'],
    ['x in ()', 'x in ()'],
    ['x in (a,)', 'x in (,a)'],
    ['x=', 'x='],
    ['  b = 1 , a in ( z , y ) , !c ', 'a in (y,z),b=1,!c'],
    ['example.com/a=b,in in (notin)', 'example.com/a=b,in in (notin)'],
  ])('formats %j canonically as %j', (input, canonical) => {
    expect(formatLabelSelector(parseLabelSelector(input))).toBe(canonical);
  });

  it('sorts values even for a hand-built selector', () => {
    expect(formatLabelSelector({ requirements: [req('k', 'NotIn', ['b', 'a'])] })).toBe('k notin (a,b)');
  });

  it.each([
    'x=a',
    'x!=',
    'a,!b,c in (,x,y),d notin (z),e==f',
    `${PREFIX_253}/${NAME_63}=${VALUE_63}`,
    'in in (in,notin),notin notin ()',
    'a=1,a!=2,a in (3)',
  ])('round-trips %j through format and parse', (input) => {
    const selector = parseLabelSelector(input);
    const canonical = formatLabelSelector(selector);
    expect(parseLabelSelector(canonical)).toEqual(selector);
    expect(formatLabelSelector(parseLabelSelector(canonical))).toBe(canonical);
  });

  it('round-trips a selector built from an object', () => {
    const selector = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev', 'qa'] }],
    });
    expect(parseLabelSelector(formatLabelSelector(selector))).toEqual(selector);
  });
});

describe('equalityTerm', () => {
  it('is the first term every matching object carries: key=value, key==value, key in (value)', () => {
    expect(equalityTerm(parseLabelSelector('tier,app=web'))).toEqual(['app', 'web']);
    expect(equalityTerm(parseLabelSelector('app==web'))).toEqual(['app', 'web']);
    expect(equalityTerm(parseLabelSelector('app in (web)'))).toEqual(['app', 'web']);
    expect(equalityTerm(labelSelectorFromObject({ matchLabels: { app: 'web', hash: 'h1' } }))).toBeDefined();
  });

  it('is undefined when there is none: in with two values, !=, exists, a selector matching nothing', () => {
    expect(equalityTerm(parseLabelSelector('app in (web,db)'))).toBeUndefined();
    expect(equalityTerm(parseLabelSelector('app!=web,tier'))).toBeUndefined();
    expect(equalityTerm(parseLabelSelector(''))).toBeUndefined();
    expect(equalityTerm(labelSelectorFromObject(undefined))).toBeUndefined();
  });
});
