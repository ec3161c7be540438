import { type FieldSet, fromFieldsV1, isEmpty, toFieldsV1 } from './field-set.js';

/** One `metadata.managedFields` entry as the API serves it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export type Operation = 'Apply' | 'Update';

/** A manager's fields, decoded. */
export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
  /** The entry this was read from: written back as it was when neither its set nor its time changed. */
  entry?: ManagedFieldsEntry;
}

/**
 * Who a manager is (upstream's BuildManagerIdentifier): one entry per manager, operation and
 * subresource, and per apiVersion for updates. It is also the order conflicts are reported in.
 */
export function identityOf(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify({
    manager: m.manager,
    operation: m.operation,
    ...(m.operation === 'Update' ? { apiVersion: m.apiVersion } : {}),
    ...(m.subresource ? { subresource: m.subresource } : {}),
  });
}

/** `[{}]`: the write asks for managedFields to be cleared (upstream's reset). */
export function isReset(raw: unknown): boolean {
  return (
    Array.isArray(raw) &&
    raw.length > 0 &&
    raw.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e) && Object.keys(e).length === 0)
  );
}

/** Decodes managedFields entries; throws on an entry that is not a valid one (as upstream's DecodeManagedFields). */
export function decodeManagedFields(raw: unknown): Manager[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error('managedFields must be a list');
  const out = new Map<string, Manager>();
  raw.forEach((e: ManagedFieldsEntry, i) => {
    if (typeof e !== 'object' || e === null) throw new Error(`managed fields entry ${i} is not an object`);
    if (e.operation !== 'Apply' && e.operation !== 'Update')
      throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '')
      throw new Error('apiVersion must not be empty');
    if (e.fieldsType !== 'FieldsV1')
      throw new Error(
        `invalid fieldsType ${JSON.stringify(e.fieldsType ?? '')} in managed fields entry ${i}`,
      );
    const m: Manager = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(typeof e.time === 'string' ? { time: e.time } : {}),
      set: fromFieldsV1(e.fieldsV1 ?? {}),
      entry: e,
    };
    const id = identityOf(m);
    if (out.has(id)) throw new Error(`duplicate managed fields entry for ${id}`);
    out.set(id, m);
  });
  return [...out.values()];
}

/** The entries, without empty ones, in upstream's order (Apply before Update, then by time and manager). */
export function encodeManagedFields(managers: readonly Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => !isEmpty(m.set))
    .sort(
      (p, q) =>
        cmp(p.operation, q.operation) ||
        cmp(seconds(p.time), seconds(q.time)) ||
        cmp(p.manager, q.manager) ||
        cmp(p.apiVersion, q.apiVersion) ||
        cmp(p.subresource ?? '', q.subresource ?? ''),
    )
    .map(
      (m) =>
        m.entry ?? {
          manager: m.manager,
          operation: m.operation,
          apiVersion: m.apiVersion,
          ...(m.time ? { time: m.time } : {}),
          fieldsType: 'FieldsV1',
          fieldsV1: toFieldsV1(m.set),
          ...(m.subresource ? { subresource: m.subresource } : {}),
        },
    );
}

function seconds(time: string | undefined): number {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function cmp<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
