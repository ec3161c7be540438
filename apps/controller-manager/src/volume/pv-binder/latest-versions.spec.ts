import { describe, expect, it } from '@jest/globals';

import { type StoredObject } from '@app/event-store';

import { LatestVersions } from './latest-versions.js';

const obj = (name: string, rv: number, uid = 'u1'): StoredObject => ({
  metadata: { name, uid, resourceVersion: String(rv) },
});

describe('LatestVersions', () => {
  const cache = new Map<string, StoredObject>();
  const store = new LatestVersions({ get: (k) => cache.get(k), list: () => [...cache.values()] });

  it('reads our newer write until the informer catches up, then the informer again', () => {
    cache.set('a', obj('a', 5));
    store.stored(obj('a', 7));
    expect(store.get('a')?.metadata.resourceVersion).toBe('7');
    expect(store.list().map((o) => o.metadata.resourceVersion)).toEqual(['7']);
    cache.set('a', obj('a', 9));
    expect(store.get('a')?.metadata.resourceVersion).toBe('9');
    cache.set('a', obj('a', 8));
    expect(store.get('a')?.metadata.resourceVersion).toBe('8');
  });

  it('forgets a write once the object is gone or made again under the same name', () => {
    cache.set('b', obj('b', 5));
    store.stored(obj('b', 7));
    cache.delete('b');
    expect(store.get('b')).toBeUndefined();
    cache.set('c', obj('c', 5));
    store.stored(obj('c', 7));
    cache.set('c', obj('c', 6, 'u2'));
    expect(store.get('c')?.metadata.uid).toBe('u2');
  });
});
