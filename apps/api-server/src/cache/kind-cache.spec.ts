import { describe, expect, it } from '@jest/globals';

import { ResourceRegistry } from '@app/api';
import { type WatchHub } from '@app/bus';
import { type EventStore, type StoredObject } from '@app/event-store';

import { event, FakeHub } from './fake-hub.fixture.js';
import { KindCache } from './kind-cache.js';

const cm = (namespace: string, name: string, rv: number) =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace, name, resourceVersion: String(rv) },
  }) as StoredObject;

async function started(initial: StoredObject[], at: number) {
  const hub = new FakeHub();
  const store = { list: async () => ({ items: initial, resourceVersion: at }) } as unknown as EventStore;
  const errors: unknown[] = [];
  const cache = new KindCache(
    store,
    hub as unknown as WatchHub,
    new ResourceRegistry().get('', 'v1', 'configmaps'),
    (e) => errors.push(e),
  );
  await cache.start();
  return { hub, cache, errors };
}

const keys = (cache: KindCache, namespace?: string) =>
  cache.entries(namespace).map((e) => `${e.namespace}/${e.name}`);

describe('KindCache', () => {
  it('keeps objects in (namespace, name) order, as Postgres lists them, not in key-string order', async () => {
    // "a-b/x" sorts before "a/x" as one string ('-' < '/'), after it as (namespace, name).
    const { hub, cache } = await started([cm('a-b', 'x', 1), cm('a', 'y', 2)], 2);
    hub.push(event('ADDED', cm('a', 'x', 3), 3));
    hub.push(event('ADDED', cm('b', 'a', 4), 4));
    expect(await cache.sync(4)).toBe(true);
    expect(keys(cache)).toEqual(['a/x', 'a/y', 'a-b/x', 'b/a']);
    expect(keys(cache, 'a')).toEqual(['a/x', 'a/y']);
    expect(keys(cache, 'a-b')).toEqual(['a-b/x']);
    expect(keys(cache, 'none')).toEqual([]);
    await cache.stop();
  });

  it('cuts a page of a namespace, or of all, by position: the first entries, never past the namespace', async () => {
    const objects = ['a', 'a-b', 'b'].flatMap((ns, i) =>
      Array.from({ length: 5 }, (_, j) => cm(ns, `o${j}`, i * 5 + j + 1)),
    );
    const { cache } = await started(objects, 15);
    const page = (ns: string | undefined, limit?: number) =>
      cache.page(ns, limit).map((e) => `${e.namespace}/${e.name}`);
    expect(page('a', 2)).toEqual(['a/o0', 'a/o1']);
    expect(page('a', 99)).toEqual(keys(cache, 'a'));
    expect(page('a-b', 5)).toEqual(['a-b/o0', 'a-b/o1', 'a-b/o2', 'a-b/o3', 'a-b/o4']);
    expect(page('b')).toHaveLength(5);
    expect(page('a-', 3)).toEqual([]);
    expect(page('c', 3)).toEqual([]);
    expect(page(undefined, 7)).toEqual([...keys(cache, 'a'), 'a-b/o0', 'a-b/o1']);
    await cache.stop();
  });

  it('replaces a changed object and its JSON, drops a deleted one, and moves its position with the log', async () => {
    const { hub, cache } = await started([cm('n', 'a', 1), cm('n', 'b', 2)], 2);
    const snapshot = cache.entries('n');
    hub.push(event('MODIFIED', cm('n', 'a', 3), 3));
    hub.push(event('DELETED', cm('n', 'b', 4), 4));
    hub.push({ kind: 'bookmark', seq: 9 });
    expect(await cache.sync(9)).toBe(true);
    expect(cache.resourceVersion).toBe(9);
    expect(keys(cache)).toEqual(['n/a']);
    expect(JSON.parse(cache.entries()[0].json)).toEqual(cm('n', 'a', 3));
    // An earlier snapshot is not changed under its reader.
    expect(snapshot.map((e) => e.object.metadata.resourceVersion)).toEqual(['1', '2']);
    expect(cache.get('n', 'a')?.metadata.resourceVersion).toBe('3');
    await cache.stop();
  });

  it('stops following when its watch fails: waiters learn at once, and it says so', async () => {
    const { hub, cache, errors } = await started([], 5);
    const waiting = cache.sync(6, 60_000);
    hub.fail(new Error('hub gone'));
    expect(await waiting).toBe(false);
    expect(cache.following).toBe(false);
    expect(await cache.sync(7, 60_000)).toBe(false);
    expect(errors).toHaveLength(1);
    // Not even a position it reached: what other servers wrote since is missing from it.
    expect(await cache.sync(5)).toBe(false);
    expect(await cache.sync(0)).toBe(false);
  });
});
