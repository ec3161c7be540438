import { type Sql } from 'postgres';

import { type ResourceRef, type StoredEvent } from '../model/index.js';
import { EVENT_COLUMNS, type EventRow, toStoredEvent } from '../read/event-reader.js';

export interface ObjectsAtOptions {
  /** Only this namespace; omit for all namespaces (and for cluster-scoped kinds). */
  namespace?: string;
  /** Only the object of this name. */
  name?: string;
}

/**
 * The objects of one kind that existed right after event `seq`, each as the last event of it
 * at or before `seq` (its object, and who wrote it when), ordered by namespace and name.
 * Folded from the log alone: unlike `EventStore.listAt`, which serves API lists partly from
 * the projection, an audit must not trust the projection it may be checking. An object whose
 * payload has expired comes with `object: null`.
 */
export async function objectsAt(
  sql: Sql,
  ref: ResourceRef,
  seq: number,
  options: ObjectsAtOptions = {},
): Promise<StoredEvent[]> {
  const params: (string | number)[] = [ref.group, ref.resource, seq];
  let filter = '';
  if (options.namespace !== undefined) filter += ` AND namespace = $${params.push(options.namespace)}`;
  if (options.name !== undefined) filter += ` AND name = $${params.push(options.name)}`;
  const rows = await sql.unsafe<EventRow[]>(
    `SELECT ${EVENT_COLUMNS} FROM (
       SELECT DISTINCT ON (namespace, name) * FROM wake.events
        WHERE api_group = $1 AND resource = $2 AND seq <= $3${filter}
        ORDER BY namespace, name, seq DESC) last
      WHERE type <> 'DELETED' ORDER BY namespace, name`,
    params,
  );
  return rows.map(toStoredEvent);
}
