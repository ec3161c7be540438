import { ApiError, type ApiClient, resourcePath } from '@app/client';

import {
  type ConfigMap,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Secret,
  type Service,
} from './kube-types.js';

/**
 * The API objects a pod's configuration reads. `undefined` means the object does not exist
 * (the API answered 404); any other failure throws.
 */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  services(namespace: string): Promise<Service[]>;
  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
}

export const OBJECT_SOURCE = Symbol('OBJECT_SOURCE');

interface Cached {
  at: number;
  value: Promise<unknown>;
}

/**
 * Reads through the API server with a short cache, like the kubelet's TTL-based configmap and
 * secret managers: one pod sync reads each object once, and a change is seen within `ttlMs`.
 * Only answers are cached (a 404 included); failures are retried on the next read.
 */
export class ApiObjectSource implements ObjectSource {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly client: ApiClient,
    private readonly o: { ttlMs?: number; now?: () => number } = {},
  ) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.getOrUndefined(core('configmaps', namespace, name));
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.getOrUndefined(core('secrets', namespace, name));
  }

  services(namespace: string): Promise<Service[]> {
    return this.cached(core('services', namespace), async (path) => {
      const page = await this.client.call<{ items?: Service[] }>('GET', path);
      return page.items ?? [];
    });
  }

  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.getOrUndefined(core('persistentvolumeclaims', namespace, name));
  }

  persistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.getOrUndefined(core('persistentvolumes', undefined, name));
  }

  private getOrUndefined<T>(path: string): Promise<T | undefined> {
    return this.cached(path, async (p) => {
      try {
        return await this.client.call<T>('GET', p);
      } catch (e) {
        if (ApiError.isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  /** Forgets expired answers, so objects no pod reads any more do not stay. */
  private sweep(now: number): void {
    if (this.cache.size < 256) return;
    for (const [path, c] of this.cache) if (now - c.at >= (this.o.ttlMs ?? 1000)) this.cache.delete(path);
  }

  private cached<T>(path: string, read: (path: string) => Promise<T>): Promise<T> {
    const now = (this.o.now ?? Date.now)();
    const hit = this.cache.get(path);
    if (hit && now - hit.at < (this.o.ttlMs ?? 1000)) return hit.value as Promise<T>;
    const value = read(path);
    this.sweep(now);
    this.cache.set(path, { at: now, value });
    // A failed read is not an answer to keep.
    value.catch(() => {
      if (this.cache.get(path)?.value === value) this.cache.delete(path);
    });
    return value;
  }
}

/** The path of a core/v1 object, or of a namespace's collection without a name. */
function core(plural: string, namespace: string | undefined, name?: string): string {
  return resourcePath({ group: '', version: 'v1', plural, namespace, name });
}
