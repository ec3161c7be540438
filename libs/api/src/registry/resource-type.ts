/** The subresources Wake serves; each has its own handler in the API server. */
export type SubresourceName =
  | 'status'
  | 'scale'
  | 'binding'
  | 'log'
  | 'eviction'
  | 'exec'
  | 'attach'
  | 'portforward'
  | 'token'
  | 'ephemeralcontainers';

/** Everything the API server needs to know about one kind: how it is addressed and shown. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** Plural, lower case: the path segment and the storage key (`pods`). */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: SubresourceName[];
  /**
   * Where the objects live when another group-version serves the same store (events.k8s.io/v1
   * Event is stored with core/v1 Event). Absent: `{ group, plural }` itself.
   */
  storage?: { group: string; resource: string };
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `v1` for the core group, `apps/v1` otherwise: the apiVersion of the kind's objects. */
export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** The store an object of `t` is read from and written to. */
export function storageOf(t: ResourceType): { group: string; resource: string } {
  return t.storage ?? { group: t.group, resource: t.plural };
}
