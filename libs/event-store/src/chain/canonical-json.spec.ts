import { describe, expect, it } from '@jest/globals';

import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  describe('scalars', () => {
    it.each<[string, unknown, string]>([
      ['null', null, 'null'],
      ['undefined (as null)', undefined, 'null'],
      ['true', true, 'true'],
      ['false', false, 'false'],
      ['zero', 0, '0'],
      ['negative zero (as 0)', -0, '0'],
      ['an integer', 42, '42'],
      ['a negative integer', -7, '-7'],
      ['a fraction', 1.5, '1.5'],
      ['a tiny number', 1e-7, '1e-7'],
      ['a huge number', 1e21, '1e+21'],
      ['the largest safe integer', Number.MAX_SAFE_INTEGER, '9007199254740991'],
      ['a float needing shortest form', 0.1 + 0.2, '0.30000000000000004'],
      ['an empty string', '', '""'],
      ['a plain string', 'abc', '"abc"'],
      ['quotes and backslashes', 'a"b\\c', '"a\\"b\\\\c"'],
      ['control characters', '\n\t\r\b\f\u0001\u001f', '"\\n\\t\\r\\b\\f\\u0001\\u001f"'],
      ['a solidus (not escaped)', 'a/b', '"a/b"'],
      ['a lone surrogate (escaped, as well-formed JSON.stringify does)', 'a\ud800b', '"a\\ud800b"'],
      ['a surrogate pair (as is)', 'a\u{1F600}b', '"a\u{1F600}b"'],
      ['DEL and non-ASCII (as is)', '\u007fé', '"\u007fé"'],
    ])('%s', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
    });
  });

  describe('non-finite numbers are rejected', () => {
    it.each<[string, unknown]>([
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['NaN in an object', { a: 1, b: NaN }],
      ['Infinity in an array', [1, Infinity]],
      ['-Infinity deeply nested', { a: [{ b: { c: [-Infinity] } }] }],
    ])('%s', (_name, value) => {
      expect(() => canonicalJson(value)).toThrow(TypeError);
      expect(() => canonicalJson(value)).toThrow(/cannot canonicali[sz]e/);
    });
  });

  describe('object keys', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['sorted', { b: 1, a: 2, c: 3 }, '{"a":2,"b":1,"c":3}'],
      ['upper case before lower case (code-unit order)', { a: 1, B: 2, _: 3 }, '{"B":2,"_":3,"a":1}'],
      ['integer-like keys sorted as strings', { 9: 'a', 10: 'b', 1: 'c' }, '{"1":"c","10":"b","9":"a"}'],
      ['a prefix before its extension', { ab: 1, a: 2, abc: 3 }, '{"a":2,"ab":1,"abc":3}'],
      ['the empty key first', { x: 1, '': 0 }, '{"":0,"x":1}'],
      ['keys needing escapes', { 'a"b': 1, 'a\nb': 2 }, '{"a\\nb":2,"a\\"b":1}'],
      ['an empty object', {}, '{}'],
    ])('%s', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
    });

    it('sorts by UTF-16 code units, as RFC 8785 does (not by code points)', () => {
      // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF61 by code unit
      // although its code point is larger; U+00E9 sorts before both.
      const value = { '\uff61': 1, '\u{1f600}': 2, '\u00e9': 3, z: 4 };
      expect(canonicalJson(value)).toBe('{"z":4,"é":3,"😀":2,"｡":1}');
    });

    it.each<[string, unknown, unknown]>([
      ['flat', { a: 1, b: 2, c: 3 }, { c: 3, a: 1, b: 2 }],
      ['nested', { a: { x: 1, y: { p: 1, q: 2 } }, b: [1] }, { b: [1], a: { y: { q: 2, p: 1 }, x: 1 } }],
      [
        'objects inside arrays',
        [
          { a: 1, b: 2 },
          { c: 3, d: 4 },
        ],
        [
          { b: 2, a: 1 },
          { d: 4, c: 3 },
        ],
      ],
      [
        'a Kubernetes-ish object',
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', labels: { b: '2', a: '1' } },
          spec: { c: [] },
        },
        {
          spec: { c: [] },
          metadata: { labels: { a: '1', b: '2' }, name: 'p' },
          kind: 'Pod',
          apiVersion: 'v1',
        },
      ],
    ])('does not depend on key insertion order: %s', (_name, one, other) => {
      expect(canonicalJson(one)).toBe(canonicalJson(other));
    });

    it('gives the same bytes for an object and for its jsonb-style reordering', () => {
      const fromRequest = JSON.parse('{"spec":{"b":[3,{"y":1,"x":2}],"a":null},"metadata":{"name":"n"}}');
      const fromJsonb = JSON.parse('{"metadata":{"name":"n"},"spec":{"a":null,"b":[3,{"x":2,"y":1}]}}');
      expect(canonicalJson(fromRequest)).toBe(canonicalJson(fromJsonb));
      expect(canonicalJson(fromRequest)).toBe(
        '{"metadata":{"name":"n"},"spec":{"a":null,"b":[3,{"x":2,"y":1}]}}',
      );
    });
  });

  describe('nesting', () => {
    it.each<[string, unknown, string]>([
      ['an empty array', [], '[]'],
      ['arrays keep their order', [3, 1, 2], '[3,1,2]'],
      ['mixed arrays', [1, 'a', null, true, { b: 1, a: 2 }, [2, 1]], '[1,"a",null,true,{"a":2,"b":1},[2,1]]'],
      ['nested objects', { z: { y: { x: { w: 1 } } } }, '{"z":{"y":{"x":{"w":1}}}}'],
      ['arrays of arrays', [[[]], [[1]]], '[[[]],[[1]]]'],
      [
        'sorting at every level',
        { b: { d: 1, c: [{ f: 1, e: 2 }] }, a: 0 },
        '{"a":0,"b":{"c":[{"e":2,"f":1}],"d":1}}',
      ],
    ])('%s', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
    });

    it('has no whitespace', () => {
      const out = canonicalJson({ a: [1, 2, { b: 'x y' }], c: { d: null } });
      expect(out).toBe('{"a":[1,2,{"b":"x y"}],"c":{"d":null}}');
    });

    it.each<[string, unknown]>([
      ['an object', { b: [1, { d: 'x', c: null }], a: { e: true } }],
      ['an array', [{ z: 1 }, 'é', 0.5, [false]]],
      ['a string', 'he said "hi"\n'],
    ])('is valid JSON that parses back to the same value: %s', (_name, value) => {
      expect(JSON.parse(canonicalJson(value))).toEqual(value);
    });
  });

  describe('undefined', () => {
    it.each<[string, unknown, string]>([
      ['an undefined property is left out', { a: 1, b: undefined }, '{"a":1}'],
      ['an object of undefined properties is empty', { a: undefined, b: undefined }, '{}'],
      ['nested undefined properties are left out', { a: { b: undefined, c: 1 } }, '{"a":{"c":1}}'],
      ['an undefined array element becomes null', [1, undefined, 2], '[1,null,2]'],
      ['undefined inside an array of objects', [{ a: undefined }], '[{}]'],
    ])('%s', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
    });

    // Regression, fixed (canonical-json.ts): `Array#map` skips holes and `join` prints them as nothing, so a
    // sparse array canonicalises to invalid JSON (`[1,,2]`) instead of `[1,null,2]` as
    // JSON.stringify (and jsonb, after a round trip) would have it: the digest of such an
    // object differs from the digest of the same object read back from the store.
    it.each<[string, unknown[], string]>([
      ['a hole in an array', [1, , 2], '[1,null,2]'], // eslint-disable-line no-sparse-arrays
      ['an array of holes', new Array<unknown>(2), '[null,null]'],
    ])('regression: %s becomes null, as JSON.stringify has it', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    });

    it('treats an undefined property like a missing one, but not like null', () => {
      expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
      expect(canonicalJson({ a: 1, b: null })).not.toBe(canonicalJson({ a: 1 }));
    });

    it('matches JSON.stringify for values without undefined or special numbers, once keys are sorted', () => {
      const value = { a: 'x', b: [1, 2.5, null], c: { d: false } };
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    });
  });

  describe('unicode', () => {
    it.each<[string, string, string]>([
      ['Latin-1 is written as is', 'café', '"café"'],
      ['CJK is written as is', '日本語', '"日本語"'],
      ['an astral character is written as is', '😀', '"😀"'],
      ['a combining sequence is not normalised', 'e\u0301', '"e\u0301"'],
      ['U+2028 is written as is', '\u2028', '"\u2028"'],
      ['a lone high surrogate is escaped', '\ud800', '"\\ud800"'],
      ['a lone low surrogate is escaped', 'a\udc00b', '"a\\udc00b"'],
      ['DEL is written as is', '\u007f', '"\u007f"'],
    ])('%s', (_name, value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
    });

    it('distinguishes NFC from NFD forms (no normalisation)', () => {
      expect(canonicalJson({ k: 'é' })).not.toBe(canonicalJson({ k: 'e\u0301' }));
    });

    it('handles unicode keys and values together', () => {
      expect(canonicalJson({ 名前: 'ポッド', a: '😀' })).toBe('{"a":"😀","名前":"ポッド"}');
    });
  });
});

describe('canonicalJson against JSON.stringify', () => {
  it('quotes every string and key as JSON.stringify does, the first time and from its memory of keys', () => {
    const samples = [
      '',
      'plain',
      'a"b',
      'a\\b',
      'tab\there',
      '\u0000',
      '\u001f',
      '\u007f',
      'é',
      '\u2028\u2029',
      '\ud83d\ude00',
      '\udc00',
      'x\ud800',
    ];
    for (const s of samples)
      for (let round = 0; round < 2; round++) {
        expect(canonicalJson(s)).toBe(JSON.stringify(s));
        expect(canonicalJson({ [s]: s })).toBe(`{${JSON.stringify(s)}:${JSON.stringify(s)}}`);
      }
  });
});
