import { type StoredObject } from '@app/event-store';

/** `namespace/name`, or `name` for cluster-scoped objects: the key a work queue carries. */
export function objectKey(o: Pick<StoredObject, 'metadata'>): string {
  const { namespace, name } = o.metadata;
  return namespace ? `${namespace}/${name}` : (name ?? '');
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The values an object is filed under in one index (none: not in that index). */
export type IndexFunction<T> = (o: T) => readonly string[];

/** One change the cache took: what handlers and work queues are told. */
export type CacheChange<T> =
  { type: 'added'; object: T } | { type: 'updated'; object: T; old: T } | { type: 'deleted'; object: T };

/**
 * The local copy of one kind that an informer keeps: objects by key, plus secondary indexes
 * (by namespace, node, owner, label...) kept in step on every change, so that "the pods of
 * this node" or "the pods this ReplicaSet owns" is a lookup, not a scan. Objects in it are
 * shared and must be treated as read-only (a reconcile copies before it changes one).
 */
export class ObjectCache<T extends StoredObject = StoredObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly indexers = new Map<string, IndexFunction<T>>();

  constructor(indexers: Readonly<Record<string, IndexFunction<T>>> = {}) {
    this.addIndexers(indexers);
  }

  /**
   * More indexes, filled from the objects already held (client-go's AddIndexers), so several
   * users of one shared informer each bring the lookups they need. A name already taken must
   * come with the same function: two meanings under one name would answer one user wrongly.
   */
  addIndexers(indexers: Readonly<Record<string, IndexFunction<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const held = this.indexers.get(name);
      if (held === fn) continue;
      if (held) throw new RangeError(`index ${JSON.stringify(name)} already exists with another function`);
      this.indexers.set(name, fn);
      this.indexes.set(name, new Map());
      for (const [key, o] of this.objects) this.fileUnder(name, fn, key, o);
    }
  }

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** The objects filed under `value` in index `index`. */
  byIndex(index: string, value: string): T[] {
    const keys = this.index(index).get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.objects.get(k) as T);
  }

  /** Whether the cache keeps index `name`. */
  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  indexValues(index: string): string[] {
    return [...this.index(index).keys()];
  }

  /** An object's new state (added or changed); an older resourceVersion than held is ignored. */
  upsert(object: T): CacheChange<T> | undefined {
    const key = objectKey(object);
    const old = this.objects.get(key);
    if (old && rv(old) > rv(object)) return undefined;
    this.put(key, object);
    return old ? { type: 'updated', object, old } : { type: 'added', object };
  }

  /**
   * Removes the object. `finalState` says `object` is its last full state (a DELETED event's
   * payload), which handlers then get; otherwise (a key only) they get the copy the cache had.
   */
  delete(object: T, finalState = true): CacheChange<T> | undefined {
    const key = objectKey(object);
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    const last = finalState && old.metadata.uid === object.metadata.uid ? object : old;
    return { type: 'deleted', object: last };
  }

  /**
   * The whole kind as a fresh list says it is: the changes that take the cache there, as a
   * relist after a gap must report what happened meanwhile (client-go's Replace with
   * DeletedFinalStateUnknown): objects gone are deleted, new ones added, changed ones updated.
   */
  replace(objects: readonly T[]): CacheChange<T>[] {
    const changes: CacheChange<T>[] = [];
    const fresh = new Set<string>();
    for (const o of objects) {
      const key = objectKey(o);
      fresh.add(key);
      const old = this.objects.get(key);
      if (old && old.metadata.resourceVersion === o.metadata.resourceVersion) continue;
      // A recreated object (new uid) is a delete and an add, not an update.
      const recreated = old !== undefined && old.metadata.uid !== o.metadata.uid;
      if (recreated) changes.push(this.delete(old) as CacheChange<T>);
      const previous = this.put(key, o);
      changes.push(previous ? { type: 'updated', object: o, old: previous } : { type: 'added', object: o });
    }
    for (const [key, o] of [...this.objects])
      if (!fresh.has(key)) changes.push(this.delete(o) as CacheChange<T>);
    return changes;
  }

  /** Files `o` under `key`, replacing (and unfiling) what was there; returns that. */
  private put(key: string, o: T): T | undefined {
    const old = this.objects.get(key);
    this.unindex(key, old);
    this.objects.set(key, o);
    this.indexObject(key, o);
    return old;
  }

  private index(name: string): Map<string, Set<string>> {
    const index = this.indexes.get(name);
    if (!index)
      throw new RangeError(
        `no index ${JSON.stringify(name)}; the cache has ${[...this.indexes.keys()].join(', ')}`,
      );
    return index;
  }

  private indexObject(key: string, o: T): void {
    for (const [name, fn] of this.indexers) this.fileUnder(name, fn, key, o);
  }

  private fileUnder(name: string, fn: IndexFunction<T>, key: string, o: T): void {
    const index = this.indexes.get(name) as Map<string, Set<string>>;
    for (const value of fn(o)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, o: T | undefined): void {
    if (!o) return;
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(o)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

function rv(o: StoredObject): number {
  return Number(o.metadata.resourceVersion ?? 0);
}
