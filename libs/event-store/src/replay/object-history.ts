import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { type Sql } from 'postgres';

import { type ObjectKey, type StoredEvent } from '../model/index.js';
import { EVENT_COLUMNS, type EventRow, toStoredEvent } from '../read/event-reader.js';

export interface ObjectVersion {
  event: StoredEvent;
  /**
   * RFC 6902 patch from the previous version of the same object (the same uid) to this one;
   * for the first version of an incarnation, from nothing. null when a payload has expired.
   */
  diff: Operation[] | null;
  /** What `diff` applies to: the previous version's object, or {} for the first of an incarnation. */
  base: object | null;
}

/** Every version of one object (across deletions and re-creations), oldest first. */
export async function objectHistory(sql: Sql, key: ObjectKey): Promise<ObjectVersion[]> {
  const rows = await sql.unsafe<EventRow[]>(
    `SELECT ${EVENT_COLUMNS} FROM wake.events
      WHERE api_group = $1 AND resource = $2 AND namespace = $3 AND name = $4 ORDER BY seq`,
    [key.group, key.resource, key.namespace, key.name],
  );
  let previous: StoredEvent | undefined;
  return rows.map(toStoredEvent).map((event) => {
    const sameIncarnation = previous && previous.uid === event.uid && previous.type !== 'DELETED';
    const before = sameIncarnation ? previous!.object : {};
    const diff = before && event.object ? fastJsonPatch.compare(before, event.object) : null;
    previous = event;
    return { event, diff, base: before };
  });
}
