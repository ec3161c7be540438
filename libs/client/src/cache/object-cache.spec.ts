import { describe, expect, it } from '@jest/globals';

import { type StoredObject } from '@app/event-store';

import { byLabel, byNamespace, byNode, byOwner, selectorCandidates } from './indexers.js';
import { ObjectCache, objectKey, splitKey } from './object-cache.js';

function pod(
  name: string,
  rv: number,
  extra: { node?: string; owner?: string; uid?: string; app?: string } = {},
) {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: extra.uid ?? `uid-${name}`,
      resourceVersion: String(rv),
      labels: { app: extra.app ?? 'web' },
      ...(extra.owner ? { ownerReferences: [{ uid: extra.owner, kind: 'ReplicaSet', name: 'rs' }] } : {}),
    },
    spec: extra.node ? { nodeName: extra.node } : {},
  } as StoredObject;
}

const cache = () => new ObjectCache({ namespace: byNamespace, node: byNode, owner: byOwner, label: byLabel });
const names = (objects: StoredObject[]) => objects.map((o) => o.metadata.name).sort();

describe('object cache', () => {
  it('keys objects as namespace/name and splits the key back', () => {
    expect(objectKey(pod('a', 1))).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ namespace: '', name: 'node-1' });
  });

  it('keeps every index in step as objects are added, changed and deleted', () => {
    const c = cache();
    c.upsert(pod('a', 1, { owner: 'rs1' }));
    c.upsert(pod('b', 2, { node: 'n1', owner: 'rs1' }));
    expect(names(c.byIndex('node', ''))).toEqual(['a']);
    expect(names(c.byIndex('owner', 'rs1'))).toEqual(['a', 'b']);
    expect(names(c.byIndex('label', 'app=web'))).toEqual(['a', 'b']);

    expect(c.upsert(pod('a', 3, { node: 'n1', app: 'api' }))?.type).toBe('updated');
    expect(c.byIndex('node', '')).toEqual([]);
    expect(c.indexValues('node')).toEqual(['n1']);
    expect(names(c.byIndex('node', 'n1'))).toEqual(['a', 'b']);
    expect(names(c.byIndex('owner', 'rs1'))).toEqual(['b']);
    expect(names(c.byIndex('label', 'app=api'))).toEqual(['a']);

    expect(c.delete(pod('b', 4))?.type).toBe('deleted');
    expect(names(c.byIndex('node', 'n1'))).toEqual(['a']);
    expect(c.byIndex('owner', 'rs1')).toEqual([]);
    expect(c.delete(pod('b', 5))).toBeUndefined();
  });

  it('ignores a change older than what it holds', () => {
    const c = cache();
    c.upsert(pod('a', 5, { node: 'new' }));
    expect(c.upsert(pod('a', 4, { node: 'old' }))).toBeUndefined();
    expect((c.get('ns/a')?.spec as { nodeName: string }).nodeName).toBe('new');
  });

  it('reports a relist as the changes that happened meanwhile, recreations as delete then add', () => {
    const c = cache();
    c.replace([pod('same', 1), pod('changed', 2), pod('gone', 3), pod('recreated', 4)]);
    const changes = c.replace([
      pod('same', 1),
      pod('changed', 9),
      pod('recreated', 10, { uid: 'new' }),
      pod('new', 11),
    ]);
    expect(changes.map((ch) => `${ch.type} ${ch.object.metadata.name}`).sort()).toEqual([
      'added new',
      'added recreated',
      'deleted gone',
      'deleted recreated',
      'updated changed',
    ]);
    expect(names(c.list())).toEqual(['changed', 'new', 'recreated', 'same']);
    expect(c.get('ns/recreated')?.metadata.uid).toBe('new');
    expect(names(c.byIndex('namespace', 'ns'))).toEqual(['changed', 'new', 'recreated', 'same']);
  });

  it('names the indexes it has when asked for one it has not', () => {
    expect(() => cache().byIndex('colour', 'red')).toThrow(
      'no index "colour"; the cache has namespace, node, owner, label',
    );
  });

  it('adds an index later, filled from the objects it already holds and kept in step after', () => {
    const c = new ObjectCache({ namespace: byNamespace });
    c.upsert(pod('a', 1, { node: 'n1' }));
    c.upsert(pod('b', 2, { node: 'n2' }));
    c.addIndexers({ namespace: byNamespace, node: byNode });
    expect(names(c.byIndex('node', 'n1'))).toEqual(['a']);
    c.upsert(pod('a', 3, { node: 'n2' }));
    expect(names(c.byIndex('node', 'n2'))).toEqual(['a', 'b']);
    expect(c.byIndex('node', 'n1')).toEqual([]);
    expect(names(c.byIndex('namespace', 'ns'))).toEqual(['a', 'b']);
  });

  it('refuses a second function under an index name already taken', () => {
    expect(() => cache().addIndexers({ node: byOwner })).toThrow(
      'index "node" already exists with another function',
    );
  });
});

describe('selectorCandidates', () => {
  const filled = (c: ObjectCache<StoredObject>) => {
    c.upsert(pod('a', 1, { app: 'web' }));
    c.upsert(pod('b', 2, { app: 'db' }));
    c.upsert({ ...pod('c', 3, { app: 'web' }), metadata: { ...pod('c', 3).metadata, namespace: 'other' } });
    return c;
  };

  it('is what the label index files under the term, in the namespace asked for', () => {
    expect(names(selectorCandidates(filled(cache()), 'ns', ['app', 'web']))).toEqual(['a']);
    expect(names(selectorCandidates(filled(cache()), 'ns', ['app', 'none']))).toEqual([]);
  });

  it('is the whole namespace without a term or without a label index', () => {
    expect(names(selectorCandidates(filled(cache()), 'ns', undefined))).toEqual(['a', 'b']);
    const unlabelled = filled(new ObjectCache({ namespace: byNamespace }));
    expect(names(selectorCandidates(unlabelled, 'ns', ['app', 'web']))).toEqual(['a', 'b']);
  });
});
