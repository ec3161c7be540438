import { describe, expect, it } from '@jest/globals';

import { parseFieldSelector, parseLabelSelector, ResourceRegistry } from '@app/api';
import { type WatchHub } from '@app/bus';
import { decodeContinue, type EventStore, type StoredObject } from '@app/event-store';
import { Registry } from '@app/metrics';
import { waitFor } from '@app/dev-servers';

import { event, FakeHub } from './fake-hub.fixture.js';
import { KindCache } from './kind-cache.js';
import { ListCache, type ListCacheOptions } from './list-cache.js';

const registry = new ResourceRegistry();
const configmaps = registry.get('', 'v1', 'configmaps');

const cm = (namespace: string, name: string, rv: number, labels: Record<string, string> = {}) =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace, name, resourceVersion: String(rv), labels },
  }) as StoredObject;

/** A store stand-in whose head the test moves, as writes elsewhere would. */
function setup(initial: StoredObject[], at: number, options: ListCacheOptions = {}, loadMs = 0) {
  const hub = new FakeHub();
  const state = { head: at, headReads: 0 };
  const store = {
    list: async () => {
      await new Promise((r) => setTimeout(r, loadMs));
      return { items: initial, resourceVersion: at };
    },
    head: async () => {
      state.headReads++;
      return { seq: state.head, hash: '', at: '' };
    },
  } as unknown as EventStore;
  const metrics = new Registry();
  const cache = new ListCache(
    store,
    hub as unknown as WatchHub,
    metrics,
    (e) => {
      throw e;
    },
    options,
  );
  const reads = async () =>
    await metrics.getSingleMetricAsString('apiserver_watch_cache_consistent_read_total');
  const loaded = () =>
    waitFor('the cache to load', async () => (await cache.list(configmaps, 'n', {}, '0')) ?? undefined);
  return { hub, state, cache, reads, loaded };
}

const names = (l: { items: { name: string }[] } | undefined) => l?.items.map((e) => e.name);

describe('ListCache', () => {
  it('serves a shared kind from its owner’s current cache, and never loads or stops a copy of its own', async () => {
    let lists = 0;
    const store = {
      list: async () => {
        lists++;
        return { items: [cm('n', 'a', 1)], resourceVersion: 1 };
      },
      head: async () => ({ seq: 1, hash: '', at: '' }),
    } as unknown as EventStore;
    const ownersCache = async () => {
      const k = new KindCache(store, new FakeHub() as unknown as WatchHub, configmaps, () => {});
      await k.start();
      return k;
    };
    let current = await ownersCache();
    const cache = new ListCache(
      store,
      new FakeHub() as unknown as WatchHub,
      new Registry(),
      (e) => {
        throw e;
      },
      {},
      [() => current],
    );
    expect(names(await cache.list(configmaps, 'n', {}, undefined))).toEqual(['a']);
    // The owner's cache stopped following: Postgres answers until the owner has rebuilt it.
    await current.stop();
    expect(await cache.list(configmaps, 'n', {}, undefined)).toBeUndefined();
    expect(cache.guess(configmaps, 'n', 'a')).toBeUndefined();
    expect(lists).toBe(1);
    current = await ownersCache();
    expect(names(await cache.list(configmaps, 'n', {}, undefined))).toEqual(['a']);
    expect(cache.guess(configmaps, 'n', 'a')?.metadata.name).toBe('a');
    expect(lists).toBe(2);
    await cache.stop();
    expect(current.following).toBe(true);
    await current.stop();
  });

  it('loads a kind on its first list, then waits for the log head on consistent reads', async () => {
    const { hub, state, cache, reads } = setup([cm('n', 'a', 1)], 1);
    expect(names(await cache.list(configmaps, 'n', {}, undefined))).toEqual(['a']);
    // A write elsewhere moved the head; its event reaches the cache a little later.
    state.head = 2;
    setTimeout(() => hub.push(event('ADDED', cm('n', 'b', 2), 2)), 20);
    const list = await cache.list(configmaps, 'n', {}, undefined);
    expect(list?.resourceVersion).toBe(2);
    expect(names(list)).toEqual(['a', 'b']);
    expect(await reads()).toMatch(/resource="configmaps",success="true",fallback="false"\} 2$/m);
    await cache.stop();
  });

  it('falls back (undefined) when the cache does not reach the head in time, and counts it', async () => {
    const { state, cache, reads, loaded } = setup([cm('n', 'a', 1)], 1, { waitMs: 20 });
    await loaded();
    state.head = 5;
    expect(await cache.list(configmaps, 'n', {}, undefined)).toBeUndefined();
    expect(await reads()).toMatch(/resource="configmaps",success="false",fallback="true"\} 1$/m);
    // A NotOlderThan the log has not reached is Postgres' to refuse (504), without a wait.
    expect(await cache.list(configmaps, 'n', { notOlderThan: 9 }, '9')).toBeUndefined();
    expect(await reads()).not.toMatch(/\} 2$/m);
    await cache.stop();
  });

  it('falls back while a kind loads for longer than the wait, and serves it once loaded', async () => {
    const { cache } = setup([cm('n', 'a', 1)], 1, { waitMs: 10 }, 200);
    expect(await cache.list(configmaps, 'n', {}, undefined)).toBeUndefined();
    const later = await waitFor('the load', async () => await cache.list(configmaps, 'n', {}, undefined));
    expect(names(later)).toEqual(['a']);
    await cache.stop();
  });

  it('serves resourceVersion=0 as the cache stands, without reading the head', async () => {
    const { state, cache, loaded } = setup([cm('n', 'a', 1)], 1);
    await loaded();
    state.head = 7;
    const before = state.headReads;
    const list = await cache.list(configmaps, 'n', {}, '0');
    expect(list?.resourceVersion).toBe(1);
    expect(names(list)).toEqual(['a']);
    expect(state.headReads).toBe(before);
    await cache.stop();
  });

  it('filters by namespace and selectors, as Postgres does', async () => {
    const objects = [
      cm('n', 'a', 1, { app: 'x' }),
      cm('n', 'b', 2, { app: 'y' }),
      cm('m', 'c', 3, { app: 'x' }),
    ];
    const { cache, loaded } = setup(objects, 3);
    await loaded();
    const list = (query: Parameters<ListCache['list']>[2], ns?: string) =>
      cache.list(configmaps, ns, query, undefined).then(names);
    expect(await list({})).toEqual(['c', 'a', 'b']);
    expect(await list({ labelSelector: parseLabelSelector('app=x') })).toEqual(['c', 'a']);
    expect(await list({ labelSelector: parseLabelSelector('app!=x') }, 'n')).toEqual(['b']);
    expect(await list({ fieldSelector: parseFieldSelector('metadata.name!=a') }, 'n')).toEqual(['b']);
    await cache.stop();
  });

  it('cuts a first page with a continue token at its own position, for Postgres to read the rest at', async () => {
    const { cache, loaded } = setup([cm('n', 'a', 1), cm('n', 'b', 2), cm('n', 'c', 3)], 3);
    await loaded();
    const page = await cache.list(configmaps, 'n', { limit: 2 }, undefined);
    expect(names(page)).toEqual(['a', 'b']);
    expect(decodeContinue(page?.continue as string)).toEqual({ rv: 3, namespace: 'n', name: 'b' });
    const all = await cache.list(configmaps, 'n', { limit: 3 }, undefined);
    expect(names(all)).toEqual(['a', 'b', 'c']);
    expect(all?.continue).toBeUndefined();
    await cache.stop();
  });

  it('leaves continues, exact reads, Secrets and converted kinds to Postgres', async () => {
    const { cache, loaded } = setup([], 1);
    await loaded();
    for (const query of [{ continue: 'x' }, { resourceVersion: 1 }])
      expect(await cache.list(configmaps, 'n', query, undefined)).toBeUndefined();
    expect(cache.serves(configmaps)).toBe(true);
    expect(cache.serves(registry.get('', 'v1', 'secrets'))).toBe(false);
    expect(cache.serves(registry.get('events.k8s.io', 'v1', 'events'))).toBe(false);
    expect(cache.serves(registry.get('', 'v1', 'events'))).toBe(true);
    await cache.stop();
  });

  it('serves only the kinds it is told to', () => {
    const { cache } = setup([], 1, { kinds: ['/pods'] });
    expect(cache.serves(registry.get('', 'v1', 'pods'))).toBe(true);
    expect(cache.serves(configmaps)).toBe(false);
  });
});
