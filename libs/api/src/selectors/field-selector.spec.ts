import { describe, expect, it } from '@jest/globals';

import { thrownStatus } from '@app/testing';
import {
  escapeFieldValue,
  type FieldRequirement,
  fieldValue,
  formatFieldSelector,
  matchesFields,
  parseFieldSelector,
} from './field-selector.js';

function parseError(input: string): string {
  const err = thrownStatus(() => parseFieldSelector(input));
  expect(err.reason).toBe('BadRequest');
  expect(err.code).toBe(400);
  return err.message;
}

const eq = (field: string, value: string): FieldRequirement => ({ field, operator: 'Equals', value });
const ne = (field: string, value: string): FieldRequirement => ({ field, operator: 'NotEquals', value });

const BAD_NAME = (field: string): string =>
  `invalid field selector: invalid field name '${field}': must be a '.'-separated path of segments ` +
  "consisting of alphanumeric characters, '-' or '_'";

describe('parseFieldSelector', () => {
  it.each<[string, FieldRequirement[]]>([
    ['', []],
    [',', []],
    [',a=b,,', [eq('a', 'b')]],
    ['a=b', [eq('a', 'b')]],
    ['a==b', [eq('a', 'b')]],
    ['a!=b', [ne('a', 'b')]],
    ['a=', [eq('a', '')]],
    ['a==', [eq('a', '')]],
    ['a!=', [ne('a', '')]],
    ['metadata.name=foo,status.phase!=Running', [eq('metadata.name', 'foo'), ne('status.phase', 'Running')]],
    ['a_b-c.D9=x', [eq('a_b-c.D9', 'x')]],
    ['spec.containers.0.name=c', [eq('spec.containers.0.name', 'c')]],
  ])('parses every operator: %j', (input, expected) => {
    expect(parseFieldSelector(input)).toEqual({ requirements: expected });
  });

  it.each<[string, FieldRequirement[]]>([
    ['b=1,a=2', [eq('a', '2'), eq('b', '1')]],
    ['a=w,a==x', [eq('a', 'x'), eq('a', 'w')]], // "a==x" sorts before "a=w": '=' < 'w'
    ['b!=1,b=1', [ne('b', '1'), eq('b', '1')]],
  ])('orders requirements by their raw term text, as upstream: %j', (input, expected) => {
    expect(parseFieldSelector(input).requirements).toEqual(expected);
  });

  it.each<[string, string]>([
    ['a=x\\,y', 'x,y'],
    ['a=x\\=y', 'x=y'],
    ['a=x\\\\y', 'x\\y'],
    ['a=\\\\', '\\'],
    ['a=\\,\\=\\\\', ',=\\'],
    ['a=b!c', 'b!c'],
    ['a=!', '!'],
    ['a= b ', ' b '],
    ['a=ü😀', 'ü😀'],
  ])('unescapes the value of %j', (input, value) => {
    expect(parseFieldSelector(input).requirements).toEqual([eq('a', value)]);
  });

  it('does not split on an escaped comma', () => {
    expect(parseFieldSelector('b=2,a=x\\,y').requirements).toEqual([eq('a', 'x,y'), eq('b', '2')]);
  });

  it.each<[string, string]>([
    ['a', "invalid selector: 'a'; can't understand 'a'"],
    ['a!b', "invalid selector: 'a!b'; can't understand 'a!b'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a=\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=\\!', 'invalid field selector: invalid escape sequence: \\!'],
    ['a=\\😀', 'invalid field selector: invalid escape sequence: \\😀'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
    ['a=b!=c', 'invalid field selector: unescaped character in value: 61'],
    ['a==b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=x=y', 'invalid field selector: unescaped character in value: 61'],
  ])('rejects syntax errors: %j', (input, message) => {
    expect(parseError(input)).toBe(message);
  });

  it.each<[string, string]>([
    ['=b', ''],
    [' a=b', ' a'],
    ['a =b', 'a '],
    ['a..b=c', 'a..b'],
    ['.a=c', '.a'],
    ['a.=c', 'a.'],
    ['a[0]=c', 'a[0]'],
    ["a'b=c", "a'b"],
    ['a b=c', 'a b'],
    ['a/b=c', 'a/b'],
    ['métadata=x', 'métadata'],
    ['a\\,b=c', 'a\\,b'],
    ['a\\=b', 'a\\'],
  ])('rejects field names that are not plain dotted paths: %j', (input, field) => {
    expect(parseError(input)).toBe(BAD_NAME(field));
  });

  it('reports a syntax error in preference to a bad field name, as upstream', () => {
    // "a b=c" sorts first but its field name is only checked once every term has parsed.
    expect(parseError('zz=\\q,a b=c')).toBe('invalid field selector: invalid escape sequence: \\q');
  });
});

describe('fieldValue', () => {
  const pod = {
    metadata: { name: 'web-1', namespace: '', labels: { app: 'web' } },
    spec: {
      nodeName: null,
      unschedulable: false,
      priority: 7,
      ready: true,
      containers: [{ name: 'c0' }, { name: 'c1' }],
    },
  };

  it.each<[unknown, string, string]>([
    [pod, 'metadata.name', 'web-1'],
    [pod, 'metadata.namespace', ''],
    [pod, 'metadata.missing', ''],
    [pod, 'nope.deeper.still', ''],
    [pod, 'spec.nodeName', ''],
    [pod, 'spec.unschedulable', 'false'],
    [pod, 'spec.ready', 'true'],
    [pod, 'spec.priority', '7'],
    [pod, 'metadata.labels', ''],
    [pod, 'spec.containers', ''],
    [pod, 'spec.containers.1.name', 'c1'],
    [pod, 'spec.containers.2.name', ''],
    [pod, 'spec.containers.01.name', ''],
    [pod, 'spec.containers.length', ''],
    [pod, 'metadata.name.length', ''],
    [pod, 'constructor', ''],
    [pod, '__proto__', ''],
    [pod, 'metadata.toString', ''],
    [Object.create({ inherited: 'x' }), 'inherited', ''],
    [null, 'metadata.name', ''],
    [undefined, 'metadata.name', ''],
    ['a string', 'length', ''],
    [{ n: BigInt(9) }, 'n', '9'],
  ])('%#: reads %s', (obj, field, expected) => {
    expect(fieldValue(obj, field)).toBe(expected);
  });
});

describe('matchesFields', () => {
  const bound = { metadata: { name: 'a' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  const pending = { metadata: { name: 'b' }, spec: {}, status: { phase: 'Pending' } };
  const node = { spec: { unschedulable: false } };

  it.each<[string, unknown, boolean]>([
    ['spec.nodeName=n1', bound, true],
    ['spec.nodeName==n1', pending, false],
    ['spec.nodeName!=n1', bound, false],
    ['spec.nodeName!=n1', pending, true],
    ['spec.nodeName=', pending, true],
    ['spec.nodeName=', bound, false],
    ['spec.nodeName!=', bound, true],
    ['spec.nodeName!=', pending, false],
    ['status.phase=Running,metadata.name!=b', bound, true],
    ['status.phase=Running,metadata.name!=a', bound, false],
    ['spec.unschedulable=false', node, true],
    ['spec.unschedulable!=true', node, true],
    ['spec.unschedulable=true', node, false],
    ['', pending, true],
    ['', null, true],
    ['metadata.name=', null, true],
    ['metadata.name!=x', undefined, true],
  ])('%j against object %# is %p', (selector, obj, expected) => {
    expect(matchesFields(parseFieldSelector(selector), obj)).toBe(expected);
  });
});

describe('formatFieldSelector', () => {
  it.each<[string, string]>([
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a=b'],
    ['a!=b', 'a!=b'],
    ['a=', 'a='],
    ['b=1,a!=2', 'a!=2,b=1'],
    ['a=x\\,y\\=z\\\\', 'a=x\\,y\\=z\\\\'],
  ])('formats %j canonically as %j', (input, canonical) => {
    expect(formatFieldSelector(parseFieldSelector(input))).toBe(canonical);
  });

  it.each(['', ' ', 'plain', 'a,b', 'a=b', 'a\\b', '\\', ',=\\', '!', '!=', 'ü😀', ' x y '])(
    'round-trips the value %j through format and parse',
    (value) => {
      for (const operator of ['Equals', 'NotEquals'] as const) {
        const selector = { requirements: [{ field: 'spec.x', operator, value }] };
        expect(parseFieldSelector(formatFieldSelector(selector))).toEqual(selector);
      }
    },
  );

  it('round-trips a multi-term selector to a stable canonical form', () => {
    const canonical = formatFieldSelector(
      parseFieldSelector('status.phase!=Failed,metadata.name==a\\,b,spec.n='),
    );
    expect(canonical).toBe('metadata.name=a\\,b,spec.n=,status.phase!=Failed');
    expect(formatFieldSelector(parseFieldSelector(canonical))).toBe(canonical);
  });
});

describe('escapeFieldValue', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['a,b', 'a\\,b'],
    ['a=b', 'a\\=b'],
    ['a\\b', 'a\\\\b'],
    ['\\,=', '\\\\\\,\\='],
    ['a!b', 'a!b'],
  ])('escapes %j as %j', (raw, escaped) => {
    expect(escapeFieldValue(raw)).toBe(escaped);
  });
});
