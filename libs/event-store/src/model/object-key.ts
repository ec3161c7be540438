/**
 * Identifies one object: API group ('' for the core group), plural resource, namespace ('' for
 * cluster-scoped kinds) and name.
 */
export interface ObjectKey {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

/** A kind of object: what a list or a watch is about. */
export interface ResourceRef {
  group: string;
  resource: string;
}

export function formatKey(key: ObjectKey): string {
  const gr = key.group ? `${key.resource}.${key.group}` : key.resource;
  return key.namespace ? `${gr}/${key.namespace}/${key.name}` : `${gr}/${key.name}`;
}

export function sameKey(a: ObjectKey, b: ObjectKey): boolean {
  return a.group === b.group && a.resource === b.resource && a.namespace === b.namespace && a.name === b.name;
}

export function keyId(key: ObjectKey): string {
  return `${key.group}\u0000${key.resource}\u0000${key.namespace}\u0000${key.name}`;
}
