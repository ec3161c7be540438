import { type Sql, type TransactionSql } from 'postgres';

import { matchesFields, matchesLabels, StatusError } from '@app/api';

import { type ObjectKey, type ResourceRef, type StoredObject } from '../model/index.js';
import { type ContinueToken, decodeContinue, encodeContinue } from './continue-token.js';
import { type ListOptions, type ListResult } from './list-options.js';
import { selectorSql } from './selector-sql.js';

export interface Head {
  seq: number;
  hash: string;
  at: string;
}

export interface GetResult {
  object: StoredObject;
  resourceVersion: number;
}

interface Row {
  namespace: string;
  name: string;
  object: StoredObject;
  /** The object as JSON text, for raw lists. */
  json?: string;
}

/** Kubernetes answers 504 with this cause when asked for a resourceVersion it has not reached. */
export function tooLargeResourceVersion(requested: number, current: number): StatusError {
  return new StatusError('Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

function compareKeys(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/**
 * Reads served from the projection. Every read sees one snapshot: a list and the head seq it
 * reports come from the same REPEATABLE READ transaction, and since appends advance the head
 * row in the same transaction as the projection, the two always agree.
 */
export class ResourceReader {
  constructor(private readonly sql: Sql) {}

  async get(key: ObjectKey): Promise<GetResult | undefined> {
    const [row] = await this.sql<{ resource_version: number; object: StoredObject }[]>`
      SELECT resource_version, object FROM wake.resources
       WHERE api_group = ${key.group} AND resource = ${key.resource}
         AND namespace = ${key.namespace} AND name = ${key.name}`;
    return row ? { object: row.object, resourceVersion: Number(row.resource_version) } : undefined;
  }

  async list(ref: ResourceRef, options: ListOptions = {}): Promise<ListResult> {
    const token = options.continue ? decodeContinue(options.continue) : undefined;
    if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) {
      throw StatusError.badRequest(`limit must be a non-negative integer, got ${options.limit}`);
    }
    const limit = options.limit ? options.limit : undefined;
    return this.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const [h] = await tx<{ seq: number; archived_before: number }[]>`
        SELECT h.seq, (SELECT value::bigint FROM wake.meta WHERE key = 'archived_before') AS archived_before
          FROM wake.log_head h WHERE id = 1`;
      const head = Number(h.seq);
      if (options.notOlderThan !== undefined && options.notOlderThan > head)
        throw tooLargeResourceVersion(options.notOlderThan, head);
      const at = token?.rv ?? options.resourceVersion ?? head;
      if (at > head) throw tooLargeResourceVersion(at, head);
      if (at < Number(h.archived_before) - 1) {
        throw StatusError.gone(`too old resource version: ${at} (${Number(h.archived_before) - 1})`);
      }
      const raw = options.raw === true && at === head;
      const rows =
        at === head
          ? await this.currentRows(tx, ref, options, token, limit, raw)
          : await this.rowsAt(tx, ref, options, at, token, limit);
      const more = limit !== undefined && rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      const result: ListResult = raw
        ? { items: [], rawItems: page.map((r) => r.json as string), resourceVersion: at }
        : { items: page.map((r) => r.object), resourceVersion: at };
      if (more && last)
        result.continue = encodeContinue({ rv: at, namespace: last.namespace, name: last.name });
      return result;
    });
  }

  /**
   * The current objects of a kind as JSON text, handed to `write` a page at a time as a cursor
   * reads them, all from one snapshot: the first bytes of a 10,000-object list can leave before
   * Postgres has produced the last. Resolves to the snapshot's resourceVersion (the log head).
   */
  streamCurrent(
    ref: ResourceRef,
    options: Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'notOlderThan'>,
    write: (jsonItems: string[]) => Promise<void>,
    pageSize = 500,
  ): Promise<number> {
    return this.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const [h] = await tx<{ seq: number }[]>`SELECT seq FROM wake.log_head WHERE id = 1`;
      if (options.notOlderThan !== undefined && options.notOlderThan > Number(h.seq))
        throw tooLargeResourceVersion(options.notOlderThan, Number(h.seq));
      const cursor = tx<{ json: string }[]>`
        SELECT object::text AS json FROM wake.resources
         WHERE api_group = ${ref.group} AND resource = ${ref.resource}
           ${options.namespace !== undefined ? tx`AND namespace = ${options.namespace}` : tx``}
           AND ${selectorSql(tx, options.labelSelector, options.fieldSelector)}
         ORDER BY namespace, name`.cursor(pageSize);
      for await (const rows of cursor) await write(rows.map((r) => r.json));
      return Number(h.seq);
    });
  }

  private currentRows(
    tx: TransactionSql,
    ref: ResourceRef,
    o: ListOptions,
    after: ContinueToken | undefined,
    limit: number | undefined,
    raw = false,
  ): Promise<Row[]> {
    return tx<Row[]>`
      SELECT namespace, name, ${raw ? tx`object::text AS json` : tx`object`} FROM wake.resources
       WHERE api_group = ${ref.group} AND resource = ${ref.resource}
         ${o.namespace !== undefined ? tx`AND namespace = ${o.namespace}` : tx``}
         ${after ? tx`AND (namespace, name) > (${after.namespace}, ${after.name})` : tx``}
         AND ${selectorSql(tx, o.labelSelector, o.fieldSelector)}
       ORDER BY namespace, name
       ${limit !== undefined ? tx`LIMIT ${limit + 1}` : tx``}`;
  }

  /**
   * The list as it was at seq `at`: projection rows untouched since `at` are still exactly as
   * they were; every object changed after `at` is rebuilt from its last event at or before
   * `at`. The cost is proportional to the churn since `at`, like an MVCC read in etcd.
   */
  private async rowsAt(
    tx: TransactionSql,
    ref: ResourceRef,
    o: ListOptions,
    at: number,
    after: ContinueToken | undefined,
    limit: number | undefined,
  ): Promise<Row[]> {
    const nsFilter = o.namespace !== undefined ? tx`AND namespace = ${o.namespace}` : tx``;
    const afterFilter = after ? tx`AND (namespace, name) > (${after.namespace}, ${after.name})` : tx``;
    const [unchanged, rebuilt] = await Promise.all([
      tx<Row[]>`
        SELECT namespace, name, object FROM wake.resources
         WHERE api_group = ${ref.group} AND resource = ${ref.resource} AND resource_version <= ${at}
           ${nsFilter} ${afterFilter}
           AND ${selectorSql(tx, o.labelSelector, o.fieldSelector)}
         ORDER BY namespace, name
         ${limit !== undefined ? tx`LIMIT ${limit + 1}` : tx``}`,
      tx<(Row & { type: string; seq: number })[]>`
        WITH changed AS (
          SELECT DISTINCT namespace, name FROM wake.events
           WHERE api_group = ${ref.group} AND resource = ${ref.resource} AND seq > ${at} ${nsFilter} ${afterFilter})
        SELECT DISTINCT ON (e.namespace, e.name) e.namespace, e.name, e.type, e.seq, e.object
          FROM changed c JOIN wake.events e
            ON e.api_group = ${ref.group} AND e.resource = ${ref.resource}
           AND e.namespace = c.namespace AND e.name = c.name AND e.seq <= ${at}
         ORDER BY e.namespace, e.name, e.seq DESC`,
    ]);
    const alive = rebuilt.filter((r) => r.type !== 'DELETED');
    const expired = alive.find((r) => r.object === null);
    if (expired) {
      throw StatusError.gone(
        `too old resource version: ${at}: the payload of ${ref.resource} ${expired.namespace}/${expired.name} at seq ${expired.seq} has expired`,
      );
    }
    const matching = alive.filter(
      (r) =>
        (!o.labelSelector || matchesLabels(o.labelSelector, r.object.metadata.labels)) &&
        (!o.fieldSelector || matchesFields(o.fieldSelector, r.object)),
    );
    const merged = [...unchanged, ...matching].sort(compareKeys);
    return limit !== undefined ? merged.slice(0, limit + 1) : merged;
  }
}
