import { type Sql } from 'postgres';

import { type StoredEvent } from '../model/index.js';
import { EVENT_COLUMNS, type EventRow, toStoredEvent } from '../read/event-reader.js';

/** Links followed at most: a cause always precedes its effect, so only a forged log loops. */
const MAX_DEPTH = 1000;

/**
 * The events that led to event `seq`, following `cause` links back: the root first (the
 * request no event caused, normally a user's), `seq` itself last. Empty when `seq` is not in
 * the log. When the root still names a cause, that cause is not in the log (archived, or the
 * writer named a seq that never existed).
 */
export async function causalChain(sql: Sql, seq: number): Promise<StoredEvent[]> {
  const rows = await sql.unsafe<EventRow[]>(
    `WITH RECURSIVE chain(seq, cause, depth) AS (
       SELECT seq, cause, 0 FROM wake.events WHERE seq = $1
       UNION ALL
       SELECT e.seq, e.cause, c.depth + 1 FROM chain c JOIN wake.events e ON e.seq = c.cause
        WHERE c.depth < $2 AND e.seq < c.seq)
     SELECT ${EVENT_COLUMNS} FROM wake.events WHERE seq IN (SELECT seq FROM chain) ORDER BY seq`,
    [seq, MAX_DEPTH],
  );
  return rows.map(toStoredEvent);
}
