import { type StoredObject } from '@app/event-store';

import { type IndexFunction } from './object-cache.js';

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
