import { type StoredObject } from '@app/event-store';

import { type NamespaceCondition } from './namespace-conditions.js';

/** v1.Namespace, the fields the namespace and service-account controllers read. */
export interface Namespace extends StoredObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating'; conditions?: NamespaceCondition[] };
}

/** The spec.finalizer the namespace controller owns (v1.FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = 'kubernetes';

export const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces' };

/** Not being deleted: controllers that fill namespaces (service accounts, the root CA) act only on these. */
export function isActive(ns: Namespace): boolean {
  return ns.status?.phase === 'Active';
}
