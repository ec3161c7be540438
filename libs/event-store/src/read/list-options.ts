import { type FieldSelector, type LabelSelector } from '@app/api';

import { type StoredObject } from '../model/index.js';

export interface ListOptions {
  /** Only this namespace; omit for all namespaces (or for cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  /** Page size; omit for everything. */
  limit?: number;
  /** A token from a previous page of the same list. */
  continue?: string;
  /** Serve the list exactly as of this resourceVersion (Kubernetes resourceVersionMatch=Exact). */
  resourceVersion?: number;
}

export interface ListResult {
  items: StoredObject[];
  /** The log head the list was read at (for a paged or exact list: the snapshot's seq). */
  resourceVersion: number;
  continue?: string;
}
