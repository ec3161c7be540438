import { objectKey } from '@app/client';
import { type StoredObject } from '@app/event-store';

const version = (o: StoredObject) => Number(o.metadata.resourceVersion) || 0;

/**
 * The informer's objects, overlaid with the controller's own writes until the informer has
 * caught up with them (pv_controller.go storeObjectUpdate on ctrl.volumes.store and
 * ctrl.claims): a sync right after a write reads what was written, not the stale cached
 * version its next write would conflict on.
 */
export class LatestVersions<T extends StoredObject> {
  private readonly written = new Map<string, T>();

  constructor(private readonly cache: { get(key: string): T | undefined; list(): T[] }) {}

  get(key: string): T | undefined {
    const cached = this.cache.get(key);
    const mine = this.written.get(key);
    if (!cached || !mine) {
      this.written.delete(key);
      return cached;
    }
    if (mine.metadata.uid === cached.metadata.uid && version(mine) > version(cached)) return mine;
    this.written.delete(key);
    return cached;
  }

  list(): T[] {
    return this.cache.list().map((o) => this.get(objectKey(o)) ?? o);
  }

  /** Remembers an object the API server returned for our write. */
  stored(o: T): void {
    this.written.set(objectKey(o), o);
  }
}
