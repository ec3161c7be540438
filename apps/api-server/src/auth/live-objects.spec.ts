import { describe, expect, it } from '@jest/globals';
import { ResourceRegistry, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';
import { CachedObjectLookup } from './live-objects.js';

/** A store stand-in that counts reads and answers as told (the cache's own logic is under test). */
class CountingObjects {
  reads = 0;
  objects = new Map<string, StoredObject>();
  delayMs = 0;
  async get(_t: unknown, namespace: string, name: string): Promise<StoredObject> {
    this.reads++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const o = this.objects.get(`${namespace}/${name}`);
    if (!o) throw StatusError.notFound({ resource: 'pods', name });
    return o;
  }
}

const pod = (uid: string, deletionTimestamp?: string) =>
  ({
    metadata: { name: 'p', namespace: 'ns', uid, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
  }) as StoredObject;

function lookup(objects: CountingObjects, o: { ttlMs?: number; timeoutMs?: number; caches?: object } = {}) {
  let now = 0;
  const l = new CachedObjectLookup(
    objects as unknown as ObjectService,
    new ResourceRegistry(),
    { ttlMs: o.ttlMs ?? 1000, timeoutMs: o.timeoutMs ?? 1000, ...(o.caches ? { caches: o.caches } : {}) },
    () => now,
  );
  return { l, advance: (ms: number) => (now += ms) };
}

describe('CachedObjectLookup', () => {
  it('reuses a found object for the TTL, then reads again', async () => {
    const objects = new CountingObjects();
    objects.objects.set('ns/p', pod('u1', '2026-01-01T00:00:00Z'));
    const { l, advance } = lookup(objects);
    expect(await l.get('pods', 'ns', 'p')).toEqual({ uid: 'u1', deletionTimestamp: '2026-01-01T00:00:00Z' });
    objects.objects.set('ns/p', pod('u2'));
    expect(await l.get('pods', 'ns', 'p')).toMatchObject({ uid: 'u1' });
    expect(objects.reads).toBe(1);
    advance(1001);
    expect(await l.get('pods', 'ns', 'p')).toEqual({ uid: 'u2' });
    expect(objects.reads).toBe(2);
  });

  it('never reuses "not found": an object created right after is found at once', async () => {
    const objects = new CountingObjects();
    const { l } = lookup(objects);
    expect(await l.get('serviceaccounts', 'ns', 'p')).toBeUndefined();
    objects.objects.set('ns/p', pod('new'));
    expect(await l.get('serviceaccounts', 'ns', 'p')).toEqual({ uid: 'new' });
    expect(objects.reads).toBe(2);
  });

  it('reads again when the token names another uid than the cached object (recreated under its name)', async () => {
    const objects = new CountingObjects();
    objects.objects.set('ns/p', pod('old'));
    const { l } = lookup(objects);
    expect(await l.get('pods', 'ns', 'p', 'old')).toEqual({ uid: 'old' });
    objects.objects.set('ns/p', pod('new'));
    expect(await l.get('pods', 'ns', 'p', 'old')).toEqual({ uid: 'old' });
    expect(await l.get('pods', 'ns', 'p', 'new')).toEqual({ uid: 'new' });
    expect(objects.reads).toBe(2);
  });

  it('shares one read among concurrent lookups, and fails a read slower than the bound', async () => {
    const objects = new CountingObjects();
    objects.objects.set('ns/p', pod('u1'));
    objects.delayMs = 30;
    const { l } = lookup(objects);
    await Promise.all([l.get('pods', 'ns', 'p'), l.get('pods', 'ns', 'p'), l.get('pods', 'ns', 'p')]);
    expect(objects.reads).toBe(1);

    const slow = new CountingObjects();
    slow.objects.set('ns/p', pod('u1'));
    slow.delayMs = 200;
    await expect(lookup(slow, { timeoutMs: 20 }).l.get('pods', 'ns', 'p')).rejects.toThrow(
      /no answer in 20 ms/,
    );
  });

  it('answers from the in-memory cache of a kind when it has the object, and reads live when not', async () => {
    const objects = new CountingObjects();
    objects.objects.set('ns/fresh', pod('live'));
    const cache = {
      following: true,
      get: (_ns: string, name: string) => (name === 'p' ? pod('cached') : undefined),
    };
    const { l } = lookup(objects, { caches: { pods: () => cache as unknown as KindCache } });
    expect(await l.get('pods', 'ns', 'p')).toEqual({ uid: 'cached' });
    expect(objects.reads).toBe(0);
    expect(await l.get('pods', 'ns', 'fresh')).toEqual({ uid: 'live' });
    expect(objects.reads).toBe(1);
  });

  it('never answers from a cache that stopped following the log: the object may be gone since', async () => {
    const objects = new CountingObjects();
    const cache = { following: false, get: () => pod('deleted since') };
    const { l } = lookup(objects, { caches: { pods: () => cache as unknown as KindCache } });
    expect(await l.get('pods', 'ns', 'p')).toBeUndefined();
    expect(objects.reads).toBe(1);
  });
});
