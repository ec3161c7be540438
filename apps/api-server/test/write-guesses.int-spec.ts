import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';

import { ResourceRegistry, StatusError } from '@app/api';
import { EventStore, type StoredObject } from '@app/event-store';
import { type TestDatabase, testDatabase } from '@app/testing';

import { type CurrentGuesses, ObjectService } from '../src/objects/object-service.js';
import { type RequestContext } from '../src/objects/request-context.js';

const configMaps = new ResourceRegistry().get('', 'v1', 'configmaps');
const ctx: RequestContext = {
  actor: { user: 'alice', groups: ['system:authenticated'] },
  requestId: 'req',
  userAgent: 'jest',
  sourceIp: '127.0.0.1',
};

/**
 * A watch cache that lags on purpose: it answers with the copy it was last given, however old
 * (the real one, ListCache, is behind by however long an event takes to come round).
 */
class LaggingCache implements CurrentGuesses {
  copy?: StoredObject;
  given = 0;
  staleSeen = 0;
  /** What it says of any name it is asked whether it lacks. */
  lacks = false;

  absent(): boolean {
    return this.lacks;
  }

  guess(): StoredObject | undefined {
    if (!this.copy) return undefined;
    this.given++;
    return structuredClone(this.copy);
  }

  stale(): void {
    this.staleSeen++;
  }
}

type ConfigMap = StoredObject & { data?: Record<string, string> };

describe('writes computed from the cache copy (real Postgres, a cache that lags on purpose)', () => {
  let db: TestDatabase;
  let store: EventStore;
  let objects: ObjectService;
  let cache: LaggingCache;
  let n = 0;
  let name: string;
  /** The object as first created: what the lagging cache keeps answering with. */
  let first: ConfigMap;
  /** Its current version, written after `first` without the cache seeing it. */
  let current: ConfigMap;

  beforeAll(async () => {
    db = await testDatabase('guesses');
    store = await EventStore.open({ url: db.url });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    cache = new LaggingCache();
    objects = new ObjectService(store, [], [], cache);
    name = `cm-${n++}`;
    first = (await objects.create(
      configMaps,
      'default',
      { metadata: { name }, data: { a: '1' } },
      ctx,
    )) as ConfigMap;
    cache.copy = first;
    current = (await objects.patch(
      configMaps,
      'default',
      name,
      'merge',
      { data: { b: '1' } },
      ctx,
    )) as ConfigMap;
    // That patch started from the copy, which was current then.
    expect(cache.staleSeen).toBe(0);
    expect(current.data).toEqual({ a: '1', b: '1' });
  });

  const stored = async () => (await objects.get(configMaps, 'default', name)) as ConfigMap;

  it('a patch started from a stale copy is patched again over what is current, nothing lost', async () => {
    const r = (await objects.patch(
      configMaps,
      'default',
      name,
      'merge',
      { data: { c: '1' } },
      ctx,
    )) as ConfigMap;
    expect(r.data).toEqual({ a: '1', b: '1', c: '1' });
    expect(cache.staleSeen).toBe(1);
    expect((await stored()).data).toEqual({ a: '1', b: '1', c: '1' });
  });

  it('an update naming the current version succeeds however stale the copy; one naming an older version is 409', async () => {
    const put = (await objects.update(
      configMaps,
      'default',
      name,
      { ...current, data: { ...current.data, c: '1' } },
      ctx,
    )) as ConfigMap;
    expect(put.data).toEqual({ a: '1', b: '1', c: '1' });
    expect(cache.staleSeen).toBe(1);
    const old = objects.update(configMaps, 'default', name, { ...first, data: { lost: '1' } }, ctx);
    await expect(old).rejects.toMatchObject({ reason: 'Conflict' });
    expect((await stored()).data).toEqual({ a: '1', b: '1', c: '1' });
  });

  it('an update without a resourceVersion applies over the current version, not over the copy', async () => {
    const body = { metadata: { name }, data: { d: '1' } };
    const put = (await objects.update(configMaps, 'default', name, body, ctx)) as ConfigMap;
    expect(put.data).toEqual({ d: '1' });
    expect(Number(put.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));
    expect(cache.staleSeen).toBe(1);
  });

  it('a patch naming an older version is 409 even when the copy it started from is that version', async () => {
    const patch = { metadata: { resourceVersion: first.metadata.resourceVersion }, data: { e: '1' } };
    const r = objects.patch(configMaps, 'default', name, 'merge', patch, ctx);
    await expect(r).rejects.toBeInstanceOf(StatusError);
    await expect(r).rejects.toMatchObject({ reason: 'Conflict' });
    expect((await stored()).data).toEqual({ a: '1', b: '1' });
  });

  it('a uid precondition is judged against the current object, not the copy', async () => {
    const mismatch = objects.update(
      configMaps,
      'default',
      name,
      { ...current, metadata: { ...current.metadata, uid: 'someone-else' } },
      ctx,
    );
    await expect(mismatch).rejects.toMatchObject({ reason: 'Conflict' });
    await expect(mismatch).rejects.toThrow(/UID in precondition: someone-else/);
  });

  it('a create the cache wrongly believes absent is AlreadyExists, the stored object untouched', async () => {
    cache.lacks = true;
    const head = (await store.head()).seq;
    const again = objects.create(configMaps, 'default', { metadata: { name }, data: { x: '1' } }, ctx);
    await expect(again).rejects.toMatchObject({ reason: 'AlreadyExists' });
    expect((await stored()).data).toEqual({ a: '1', b: '1' });
    expect((await store.head()).seq).toBe(head);
    // A name it rightly believes absent is created without a read of it.
    const reads = store.batchStats().objectsRead;
    const fresh = await objects.create(configMaps, 'default', { metadata: { name: `${name}-new` } }, ctx);
    expect(fresh.metadata.uid).toBeDefined();
    expect(store.batchStats().objectsRead).toBe(reads);
  });

  it("a refusal computed from a stale copy is not the caller's: a JSON patch test that holds now succeeds", async () => {
    // The copy has no data.b; the current version has it, so this test holds.
    const patch = [
      { op: 'test', path: '/data/b', value: '1' },
      { op: 'add', path: '/data/c', value: '1' },
    ];
    const r = (await objects.patch(configMaps, 'default', name, 'json', patch, ctx)) as ConfigMap;
    expect(r.data).toEqual({ a: '1', b: '1', c: '1' });
    expect(cache.staleSeen).toBe(1);
  });

  it('nor is a finalizer refused as new on an object being deleted when only the copy lacks it', async () => {
    const doomed = `${name}-doomed`;
    await objects.create(configMaps, 'default', { metadata: { name: doomed, finalizers: ['a/x'] } }, ctx);
    await objects.delete(configMaps, 'default', doomed, ctx);
    // The copy: being deleted, finalizers [a/x]. Now also `orphan`, which a second delete's
    // policy added (the API semantics suite's sequence): dropping a/x adds nothing new.
    cache.copy = await objects.get(configMaps, 'default', doomed);
    await objects.delete(configMaps, 'default', doomed, ctx, { propagationPolicy: 'Orphan' });
    const released = await objects.patch(
      configMaps,
      'default',
      doomed,
      'merge',
      { metadata: { finalizers: ['orphan'] } },
      ctx,
    );
    expect(released.metadata.finalizers).toEqual(['orphan']);
    expect(cache.staleSeen).toBe(1);
  });

  it('a dry run reads Postgres: it answers with the current version, never the copy', async () => {
    const dry = (await objects.patch(configMaps, 'default', name, 'merge', { data: { f: '1' } }, ctx, {
      dryRun: true,
    })) as ConfigMap;
    expect(dry.data).toEqual({ a: '1', b: '1', f: '1' });
    expect(cache.given).toBe(1);
  });
});
