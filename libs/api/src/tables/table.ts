import { type StoredObjectLike } from './printer.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

/** What a Table row carries of its object (`includeObject`): kubectl asks for Metadata by default. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(value: string | undefined): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

/**
 * The row's `object`: kubectl needs at least the metadata (namespace for `-A`, labels for
 * `--show-labels`), and the whole object for `--sort-by`.
 */
export function rowObject(obj: StoredObjectLike, include: IncludeObject): unknown {
  if (include === 'Object') return obj;
  if (include === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}
