import { type TableColumn } from './table.js';
import { type Wire } from './wire.js';

export interface StoredObjectLike {
  metadata: { name?: string; creationTimestamp?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** A kind's columns and how to fill them, as upstream's printers define them. */
export interface Printer {
  columns: TableColumn[];
  cells(obj: StoredObjectLike, now: number): unknown[];
}

/** A column in upstream's words: `description` is kubectl's, type and format as upstream sets. */
export function column(
  name: string,
  description: string,
  options: { priority?: number; type?: TableColumn['type']; format?: string } = {},
): TableColumn {
  return {
    name,
    type: options.type ?? 'string',
    format: options.format ?? '',
    description,
    priority: options.priority ?? 0,
  };
}

export const NAME_COLUMN = column(
  'Name',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.',
  { format: 'name' },
);

export const AGE_COLUMN = column(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
);

/** `<none>` for an empty value, as every upstream printer writes it. */
export function orNone(value: string | undefined | null): string {
  return value ? value : '<none>';
}

/** Columns only `-o wide` shows. */
export const WIDE = { priority: 1 };

/** Reads a stored object as the wire form of a generated model type. */
export function as<T>(obj: StoredObjectLike): Wire<T> {
  return obj as unknown as Wire<T>;
}
