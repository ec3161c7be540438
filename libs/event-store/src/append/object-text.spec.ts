import { describe, expect, it } from '@jest/globals';

import { canonicalJson } from '../chain/index.js';
import { type StoredObject } from '../model/index.js';
import { objectText, sameContent, sameSpec, withGeneration } from './object-text.js';

const pod = (): StoredObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'u-1',
    resourceVersion: '41',
    generation: 9,
    creationTimestamp: '2024-01-01T00:00:00Z',
    labels: { app: 'web' },
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
  },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
  status: { phase: 'Running' },
});

describe('objectText', () => {
  it.each<[string, StoredObject]>([
    ['a pod', pod()],
    ['no generation or resourceVersion', { metadata: { name: 'x' }, data: { k: 'v' } }],
    ['only resourceVersion', { metadata: { resourceVersion: '1' } }],
    ['generation first in metadata', { metadata: { generation: 1, name: 'x' } }],
    ['empty metadata', { metadata: {} }],
    [
      'undefined members',
      { metadata: { name: 'x', labels: undefined }, spec: undefined, data: { a: undefined } },
    ],
    ['keys that need escaping', { metadata: { name: 'x', 'a"b': 'q' }, 'we\\ird': ['\u0001', null, 1.5] }],
    ['metadata that is not an object', { metadata: ['odd'] as unknown as StoredObject['metadata'] }],
    ['string generation', { metadata: { generation: 'seven' as unknown as number } }],
  ])('writes exactly canonical JSON: %s', (_, object) => {
    const text = objectText(object);
    expect(text.json).toBe(canonicalJson(object));
    expect(JSON.parse(text.json)).toEqual(JSON.parse(JSON.stringify(object)));
  });

  it('finds the values of generation and resourceVersion, and the members counting as spec', () => {
    const text = objectText({ ...pod(), data: { k: 'v' } });
    const at = (span?: [number, number]) => span && text.json.slice(span[0], span[1]);
    expect(at(text.generationAt)).toBe('9');
    expect(at(text.resourceVersionAt)).toBe('"41"');
    const spec: string[] = [];
    for (let i = 0; i < text.spec.length; i += 2) spec.push(text.json.slice(text.spec[i], text.spec[i + 1]));
    expect(spec).toEqual(['"data":{"k":"v"}', '"spec":{"containers":[{"image":"nginx","name":"c"}]}']);
    expect(text.meta).toEqual({ uid: 'u-1', creationTimestamp: '2024-01-01T00:00:00Z', generation: 9 });
  });
});

describe('withGeneration', () => {
  it.each([9, 10, 1000, 1])('sets generation %i and keeps every cut in place', (generation) => {
    const object = pod();
    const set = withGeneration(objectText(object), generation);
    object.metadata.generation = generation;
    expect(set).toEqual(objectText(object));
  });

  it('refuses a text without generation', () => {
    expect(() => withGeneration(objectText({ metadata: {} }), 2)).toThrow('no metadata.generation');
  });
});

describe('sameContent and sameSpec', () => {
  const base = objectText(pod());
  const edited = (change: (o: StoredObject) => void) => {
    const o = pod();
    change(o);
    return objectText(o);
  };

  it.each<[string, (o: StoredObject) => void, boolean, boolean]>([
    ['nothing', () => undefined, true, true],
    ['resourceVersion', (o) => (o.metadata.resourceVersion = '123456'), true, true],
    ['generation', (o) => (o.metadata.generation = 10), true, true],
    [
      'both, to longer values',
      (o) => Object.assign(o.metadata, { generation: 12345, resourceVersion: '9' }),
      true,
      true,
    ],
    ['a label', (o) => (o.metadata.labels = { app: 'api' }), false, true],
    ['status', (o) => (o.status = { phase: 'Failed' }), false, true],
    ['kind', (o) => (o.kind = 'Other'), false, true],
    ['spec', (o) => (o.spec = {}), false, false],
    ['spec removed', (o) => delete o.spec, false, false],
    ['a new member counting as spec', (o) => (o.data = {}), false, false],
    ['resourceVersion removed', (o) => delete o.metadata.resourceVersion, false, true],
    ['a label value that looks like a cut', (o) => (o.metadata.labels = { app: 'web', g: '9' }), false, true],
  ])('%s changed: same content %s, same spec %s', (_, change, content, spec) => {
    const other = edited(change);
    expect(sameContent(other, base)).toBe(content);
    expect(sameContent(base, other)).toBe(content);
    expect(sameSpec(other, base)).toBe(spec);
    expect(sameSpec(base, other)).toBe(spec);
  });
});
