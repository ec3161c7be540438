import { describe, expect, it } from '@jest/globals';

import { thrownStatus } from '@app/testing';

import { applyJsonPatch, MAX_JSON_PATCH_COPY_BYTES } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';

/** A value as JSON.parse makes it: `__proto__` an own key, as a client can send it. */
const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe('merge patch: keys are data, never prototypes', () => {
  it('keeps __proto__, constructor and prototype as own keys of the result', () => {
    const out = applyMergePatch(
      { data: { a: '1' } },
      parsed('{"data":{"__proto__":{"polluted":1},"constructor":"c","prototype":"p"}}'),
    ) as { data: Record<string, unknown> };
    expect(Object.keys(out.data)).toEqual(['a', '__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(
      '{"data":{"a":"1","__proto__":{"polluted":1},"constructor":"c","prototype":"p"}}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('merges into an own constructor key, not into the inherited Object function', () => {
    const out = applyMergePatch({}, parsed('{"constructor":{"assign":"x"}}')) as Record<string, unknown>;
    expect(out.constructor).toEqual({ assign: 'x' });
    expect(typeof Object.assign).toBe('function');
  });
});

describe('JSON patch: own properties only, bounded copies', () => {
  const doc = { metadata: { name: 'n', annotations: { a: 'x' } }, data: { big: 'x'.repeat(1024 * 1024) } };

  it('refuses pointers through inherited properties, __proto__ and malformed escapes with 422', () => {
    for (const ops of [
      [{ op: 'add', path: '/constructor/polluted', value: 1 }],
      [{ op: 'copy', from: '/toString', path: '/data/f' }],
      [{ op: 'replace', path: '/hasOwnProperty', value: 1 }],
      [{ op: 'add', path: '/__proto__/polluted', value: 1 }],
      [{ op: 'add', path: '/metadata/~2', value: 1 }],
      [{ op: 'add', path: '/data/-/b', value: 1 }],
      [{ op: 'move', from: '/metadata', path: '/metadata/annotations/m' }],
      [{ op: 'move', from: '', path: '/metadata/x' }],
    ])
      expect([ops, thrownStatus(() => applyJsonPatch(doc, ops)).code]).toEqual([ops, 422]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('adds, copies to and tests own keys named like Object.prototype members', () => {
    const out = applyJsonPatch({ data: {} }, [
      { op: 'add', path: '/data/constructor', value: 'c' },
      { op: 'copy', from: '/data/constructor', path: '/data/toString' },
      { op: 'test', path: '/data/toString', value: 'c' },
    ]);
    expect(out).toEqual({ data: { constructor: 'c', toString: 'c' } });
  });

  it('refuses copies of more than 3 MiB in all with a 413, and takes copies up to it', () => {
    const copies = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        op: 'copy',
        from: '/data/big',
        path: `/metadata/annotations/c${i}`,
      }));
    const allowed = Math.floor(MAX_JSON_PATCH_COPY_BYTES / (1024 * 1024 + 2));
    expect(allowed).toBe(2);
    expect(() => applyJsonPatch(doc, copies(allowed))).not.toThrow();
    expect(thrownStatus(() => applyJsonPatch(doc, copies(allowed + 1)))).toMatchObject({
      code: 413,
      reason: 'RequestEntityTooLarge',
    });
  });
});
