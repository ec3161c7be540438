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
  /**
   * Serve the current list, but only if the log has reached this resourceVersion (Kubernetes'
   * NotOlderThan): checked in the list's own snapshot, so it costs no extra read.
   */
  notOlderThan?: number;
  /**
   * Also give the items as JSON text straight from Postgres (`rawItems`), for callers that only
   * pass them on: a 10,000-object list is then never parsed and re-serialised. Lists of the
   * current state only; a list as of an earlier resourceVersion gives objects alone.
   */
  raw?: boolean;
}

export interface ListResult {
  /** The objects; empty when `rawItems` carries them instead. */
  items: StoredObject[];
  /** With `raw`: each object as JSON text, in order. */
  rawItems?: string[];
  /** The log head the list was read at (for a paged or exact list: the snapshot's seq). */
  resourceVersion: number;
  continue?: string;
}
