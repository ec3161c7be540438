import { describe, expect, it } from '@jest/globals';

import { duplicateFields } from './json-duplicates.js';

describe('duplicate JSON keys', () => {
  it('names each duplicate by its field path, arrays by index', () => {
    expect(duplicateFields('{"metadata":{"name":"a","name":"b"}}')).toEqual(['metadata.name']);
    expect(
      duplicateFields('{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","name":"c"}]},"spec":1}'),
    ).toEqual(['spec.containers[1].name', 'spec']);
    expect(duplicateFields('[{"op":"add"},{"op":"add","op":"remove"}]')).toEqual(['[1].op']);
    expect(duplicateFields('{"a":[[1,{"b":1,"b":2}]]}')).toEqual(['a[0][1].b']);
  });

  it('finds none where keys repeat only across objects, and is not fooled by strings', () => {
    expect(duplicateFields('{"a":{"x":1},"b":{"x":1}}')).toEqual([]);
    expect(duplicateFields('{"a":"{\\"a\\":1,\\"a\\":2}","b":"}]["}')).toEqual([]);
    expect(duplicateFields('{"a":"x\\\\","a":1}')).toEqual(['a']);
  });

  it('compares keys by value, escapes decoded', () => {
    expect(duplicateFields('{"ab":1,"a\\u0062":2}')).toEqual(['ab']);
  });

  it('stops, without throwing, on text that is not JSON after all', () => {
    expect(duplicateFields('{"a\\x":1,"b":1,"b":2}')).toEqual([]);
    expect(duplicateFields('{"a":1,"a":2,"unterminated')).toEqual(['a']);
  });

  it('survives 100k-deep nesting without recursion, and still finds the duplicate at the bottom', () => {
    const depth = 100_000;
    const text = `${'{"a":'.repeat(depth)}{"x":1,"x":2}${'}'.repeat(depth)}`;
    const found = duplicateFields(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toBe(`${'a.'.repeat(depth)}x`);
    expect(duplicateFields(`${'['.repeat(depth)}${']'.repeat(depth)}`)).toEqual([]);
  });

  it('handles huge key counts, and reports at most `limit` duplicates however many there are', () => {
    const distinct = `{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(duplicateFields(distinct)).toEqual([]);
    const repeated = `{${Array.from({ length: 200_000 }, () => '"k":1').join(',')}}`;
    expect(duplicateFields(repeated)).toHaveLength(100);
    expect(duplicateFields(repeated, 3)).toEqual(['k', 'k', 'k']);
    const deepAndRepeated = `${'{"a":'.repeat(50_000)}{${Array.from({ length: 50_000 }, () => '"k":1').join(',')}}${'}'.repeat(50_000)}`;
    expect(duplicateFields(deepAndRepeated)).toHaveLength(100);
  });
});
