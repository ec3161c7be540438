import { type StoredObject } from '@app/event-store';

import { type IndexFunction, type ObjectCache } from './object-cache.js';

/** The indexes informers share (client-go's namespace index, plus what Wake's components look up). */
export const byNamespace: IndexFunction<StoredObject> = (o) =>
  o.metadata.namespace ? [o.metadata.namespace] : [];

/** Pods by `spec.nodeName` (unscheduled pods are filed under ""). */
export const byNode: IndexFunction<StoredObject> = (o) => {
  const node = (o.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return [typeof node === 'string' ? node : ''];
};

/** Objects by the uid of each owner (garbage collection, ReplicaSet and Job controllers). */
export const byOwner: IndexFunction<StoredObject> = (o) => {
  const refs = o.metadata.ownerReferences;
  if (!Array.isArray(refs)) return [];
  return refs.flatMap((r: unknown) => {
    const uid = (r as { uid?: unknown } | null)?.uid;
    return typeof uid === 'string' ? [uid] : [];
  });
};

/** Objects by each `key=value` label: a selector's first equality term narrows the candidates. */
export const byLabel: IndexFunction<StoredObject> = (o) =>
  Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);

/**
 * EndpointSlices by their Service, `namespace/name`, from the discovery.k8s.io/v1
 * LabelServiceName label (the proxy, cluster DNS and ingress controller all look slices up so).
 */
export const bySliceService: IndexFunction<StoredObject> = (o) => {
  const service = o.metadata.labels?.['kubernetes.io/service-name'];
  return service ? [`${o.metadata.namespace ?? ''}/${service}`] : [];
};

export const STANDARD_INDEXES = { namespace: byNamespace, owner: byOwner, label: byLabel } as const;

/**
 * The objects of `namespace` a selector may match, given one of its equality terms
 * (`key`, `value`): those filed under it in the `label` index when the cache keeps one, else the
 * whole namespace. A superset: the caller still matches the whole selector. A Service's or a
 * ReplicaSet's sync then costs its own pods rather than every pod of the namespace.
 */
export function selectorCandidates<T extends StoredObject>(
  cache: ObjectCache<T>,
  namespace: string,
  term: readonly [key: string, value: string] | undefined,
): T[] {
  if (!term || !cache.hasIndex('label')) return cache.byIndex('namespace', namespace);
  return cache
    .byIndex('label', `${term[0]}=${term[1]}`)
    .filter((o) => (o.metadata.namespace ?? '') === namespace);
}
