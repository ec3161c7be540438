/**
 * Versioned schema migrations, applied in order at start-up by `Migrator` under an advisory
 * lock. A migration never changes once released: add a new one instead.
 *
 * Roles: the migrating connection (the owner) owns every object. The application connects as
 * (or SETs ROLE to) `appRole`, which may INSERT and SELECT events but never UPDATE, DELETE or
 * TRUNCATE them; the only rewrite of an event row — retention expiring a superseded payload —
 * goes through an owner-defined SECURITY DEFINER function that a trigger double-checks.
 */
export interface Migration {
  version: number;
  name: string;
  sql: (ctx: MigrationContext) => string;
}

export interface MigrationContext {
  schema: string;
  appRole: string;
  partitionSize: number;
}

/** Every append notifies this channel with the new head seq (the relay listens). */
export const NOTIFY_CHANNEL = 'wake_events';

/**
 * The parameters of append_batch since version 4: version 5 replaces its body under the same
 * signature, which is what lets a server of either release call it.
 */
const APPEND_BATCH_PARAMS = `(
  expected_seq bigint, expected_hash bytea, events text,
  insert_seqs bigint[], update_seqs bigint[], update_expected bigint[],
  delete_seqs bigint[], delete_expected bigint[],
  new_seq bigint, new_hash bytea, new_at timestamptz, planned int[]
)`;

const ZERO_HASH = `'\\x${'00'.repeat(32)}'::bytea`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'event log, head, projection',
    sql: ({ schema: s, appRole, partitionSize }) => `
CREATE TABLE ${s}.meta (key text PRIMARY KEY, value jsonb NOT NULL);
INSERT INTO ${s}.meta VALUES ('partition_size', '${partitionSize}'), ('archived_before', '1');

-- The single head row. Every appending transaction locks and advances it, so sequence
-- allocation order is commit order and a rolled-back transaction returns its numbers:
-- readers may tail "seq > cursor" without ever skipping an event.
CREATE TABLE ${s}.log_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash bytea NOT NULL,
  at timestamptz NOT NULL
);
INSERT INTO ${s}.log_head VALUES (1, 0, ${ZERO_HASH}, 'epoch');

CREATE TABLE ${s}.events (
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  api_group text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  namespace text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  uid uuid NOT NULL,
  object jsonb,
  object_digest bytea NOT NULL,
  actor jsonb NOT NULL,
  verb text NOT NULL,
  request_id text,
  user_agent text,
  source_ip text,
  cause bigint,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (seq)
) PARTITION BY RANGE (seq);
CREATE INDEX events_object_idx ON ${s}.events (api_group, resource, namespace, name, seq);
CREATE INDEX events_cause_idx ON ${s}.events (cause) WHERE cause IS NOT NULL;
CREATE INDEX events_at_idx ON ${s}.events USING brin (at);

CREATE TABLE ${s}.resources (
  api_group text COLLATE "C" NOT NULL,
  resource text COLLATE "C" NOT NULL,
  namespace text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  uid uuid NOT NULL,
  resource_version bigint NOT NULL,
  object jsonb NOT NULL,
  PRIMARY KEY (api_group, resource, namespace, name)
) WITH (fillfactor = 80);
-- Only the primary key: an update then changes no indexed column and can be a HOT update in
-- the page's free space. Selectors filter rows of one kind as the apiserver's watch cache does.

-- Append-only, enforced for every role including the owner. The single permitted UPDATE is
-- retention setting a superseded payload to NULL, flagged by expire_payloads() below; the
-- row keeps its digest, so the hash chain still verifies.
CREATE FUNCTION ${s}.events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND current_setting('wake.expiring_payloads', true) = 'on'
     AND NEW.object IS NULL
     AND (to_jsonb(NEW) - 'object') = (to_jsonb(OLD) - 'object') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the event log is append-only: % on events is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${s}.events
  FOR EACH ROW EXECUTE FUNCTION ${s}.events_guard();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${s}.events
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_guard();

-- Creates partitions of meta.partition_size events until seq "upto" is covered.
CREATE FUNCTION ${s}.ensure_event_partitions(upto bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${s}, pg_temp AS $$
DECLARE
  size bigint := (SELECT value::bigint FROM meta WHERE key = 'partition_size');
  covered bigint;
  lo bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('wake.ensure_event_partitions'));
  SELECT coalesce(max(substring(c.relname FROM 'events_p(\\d+)$')::bigint), -1)
    INTO lo FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'events'::regclass;
  covered := CASE WHEN lo < 0 THEN 0 ELSE lo + size END;
  WHILE covered <= upto LOOP
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.events FOR VALUES FROM (%s) TO (%s)',
                   '${s}', 'events_p' || covered, '${s}', covered, covered + size);
    covered := covered + size;
  END LOOP;
  RETURN covered;
END $$;
SELECT ${s}.ensure_event_partitions(${partitionSize} * 2);

-- Retention for high-churn kinds: drop superseded payloads older than "before". The latest
-- version of every live object keeps its payload, so projections can always be rebuilt.
CREATE FUNCTION ${s}.expire_payloads(kinds text[], before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${s}, pg_temp AS $$
DECLARE n bigint;
BEGIN
  PERFORM set_config('wake.expiring_payloads', 'on', true);
  UPDATE events e SET object = NULL
   WHERE e.object IS NOT NULL AND e.at < before
     AND (e.api_group || '/' || e.resource) = ANY (kinds)
     AND NOT EXISTS (SELECT 1 FROM resources r
                      WHERE r.api_group = e.api_group AND r.resource = e.resource
                        AND r.namespace = e.namespace AND r.name = e.name
                        AND r.resource_version = e.seq);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('wake.expiring_payloads', 'off', true);
  RETURN n;
END $$;

-- Aborts the appending transaction when a write touched other than the planned number of rows
-- (projection insert/update/delete, events appended, head advanced): something changed a row
-- the batch read under the head lock.
CREATE FUNCTION ${s}.assert_applied(planned int[], applied int[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF planned IS DISTINCT FROM applied THEN
    RAISE EXCEPTION 'rows changed under the log-head lock: planned insert/update/delete/append/head %, applied %',
      planned, applied USING ERRCODE = 'serialization_failure';
  END IF;
END $$;

DO $$ BEGIN
  CREATE ROLE ${appRole} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
GRANT USAGE ON SCHEMA ${s} TO ${appRole};
GRANT SELECT ON ${s}.meta TO ${appRole};
GRANT SELECT, UPDATE ON ${s}.log_head TO ${appRole};
GRANT SELECT, INSERT ON ${s}.events TO ${appRole};
GRANT SELECT, INSERT, UPDATE, DELETE ON ${s}.resources TO ${appRole};
GRANT EXECUTE ON FUNCTION ${s}.ensure_event_partitions(bigint) TO ${appRole};
GRANT EXECUTE ON FUNCTION ${s}.expire_payloads(text[], timestamptz) TO ${appRole};
GRANT EXECUTE ON FUNCTION ${s}.assert_applied(int[], int[]) TO ${appRole};
REVOKE ALL ON FUNCTION ${s}.events_guard() FROM PUBLIC;
`,
  },
  {
    version: 2,
    name: 'conditional head lock for pipelined appends',
    sql: ({ schema: s, appRole }) => `
-- Locks the head row, then refuses (40001) unless it is still where the caller planned from:
-- a pipelined append sends this, its write and COMMIT in one round trip.
CREATE FUNCTION ${s}.lock_head(expected_seq bigint, expected_hash bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  h record;
BEGIN
  SELECT seq, hash INTO h FROM ${s}.log_head WHERE id = 1 FOR UPDATE;
  IF h.seq IS DISTINCT FROM expected_seq OR h.hash IS DISTINCT FROM expected_hash THEN
    RAISE EXCEPTION 'the log head moved: planned on seq %, found seq %', expected_seq, h.seq
      USING ERRCODE = 'serialization_failure';
  END IF;
END $$;
GRANT EXECUTE ON FUNCTION ${s}.lock_head(bigint, bytea) TO ${appRole};
`,
  },
  {
    version: 3,
    name: 'append a planned batch in one statement',
    sql: ({ schema: s, appRole }) => `
-- Appends a batch the writer planned on top of the head (expected_seq, expected_hash): locks
-- the head and refuses (40001) if it moved, appends the events, applies the net projection
-- changes conditionally on the planned resourceVersions, advances the head, refuses (40001)
-- unless every row count is the planned one, and notifies. One statement: called outside a
-- transaction block it is its own transaction, so a batch costs one protocol round trip.
-- Each statement inside takes a fresh snapshot (READ COMMITTED), after the lock.
CREATE FUNCTION ${s}.append_batch(
  expected_seq bigint, expected_hash bytea, events text, inserts text, updates text, deletes text,
  new_seq bigint, new_hash bytea, new_at timestamptz, planned int[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  appended int;
  inserted int;
  updated int;
  deleted int;
BEGIN
  PERFORM ${s}.lock_head(expected_seq, expected_hash);

  INSERT INTO ${s}.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                           actor, verb, request_id, user_agent, source_ip, cause, prev_hash, hash)
  SELECT x.seq, x.at::timestamptz, x.type, x.group, x.resource, x.namespace, x.name, x.uid, x.object,
         decode(x."objectDigest", 'hex'), x.actor, x.verb, x."requestId", x."userAgent", x."sourceIp",
         x.cause, decode(x."prevHash", 'hex'), decode(x.hash, 'hex')
    FROM jsonb_to_recordset(events::jsonb) AS x(
         seq bigint, at text, type text, "group" text, resource text, namespace text, name text, uid uuid,
         object jsonb, "objectDigest" text, actor jsonb, verb text, "requestId" text, "userAgent" text,
         "sourceIp" text, cause bigint, "prevHash" text, hash text);
  GET DIAGNOSTICS appended = ROW_COUNT;

  INSERT INTO ${s}.resources (api_group, resource, namespace, name, uid, resource_version, object)
  SELECT x.g, x.r, x.ns, x.n, x.uid, x.rv, x.object
    FROM jsonb_to_recordset(inserts::jsonb) AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS inserted = ROW_COUNT;

  UPDATE ${s}.resources t SET uid = x.uid, resource_version = x.rv, object = x.object
    FROM jsonb_to_recordset(updates::jsonb)
      AS x(g text, r text, ns text, n text, uid uuid, rv bigint, object jsonb, expected bigint)
   WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
     AND t.resource_version = x.expected;
  GET DIAGNOSTICS updated = ROW_COUNT;

  DELETE FROM ${s}.resources t
   USING jsonb_to_recordset(deletes::jsonb) AS x(g text, r text, ns text, n text, expected bigint)
   WHERE t.api_group = x.g AND t.resource = x.r AND t.namespace = x.ns AND t.name = x.n
     AND t.resource_version = x.expected;
  GET DIAGNOSTICS deleted = ROW_COUNT;

  UPDATE ${s}.log_head SET seq = new_seq, hash = new_hash, at = new_at WHERE id = 1;
  PERFORM ${s}.assert_applied(planned, ARRAY[inserted, updated, deleted, appended]);
  PERFORM pg_notify('${NOTIFY_CHANNEL}', new_seq::text);
END $$;
GRANT EXECUTE ON FUNCTION ${s}.append_batch(bigint, bytea, text, text, text, text, bigint, bytea, timestamptz, int[])
  TO ${appRole};
`,
  },
  {
    version: 4,
    name: 'projection rows by reference to their events',
    sql: ({ schema: s, appRole }) => `
-- As version 3, but a projection row is named by the seq of the batch's event that carries the
-- object's final state (its key, uid and payload): the payload crosses the wire and is parsed
-- once, for the event, and the projection takes it from there. One statement after the lock,
-- so one snapshot; the four writes touch disjoint rows (an object is inserted, updated or
-- deleted, never two of these, in one batch's net change). Version 3's function stays: an API
-- server of the previous release, still running during a rolling upgrade, goes on appending
-- with it (the two differ in their number of arguments, so no call is ambiguous).
CREATE FUNCTION ${s}.append_batch${APPEND_BATCH_PARAMS} RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  appended int;
  inserted int;
  updated int;
  deleted int;
BEGIN
  PERFORM ${s}.lock_head(expected_seq, expected_hash);

  WITH x AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(events::jsonb) AS x(
         seq bigint, at text, type text, "group" text, resource text, namespace text, name text, uid uuid,
         object jsonb, "objectDigest" text, actor jsonb, verb text, "requestId" text, "userAgent" text,
         "sourceIp" text, cause bigint, "prevHash" text, hash text)
  ), a AS (
    INSERT INTO ${s}.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                             actor, verb, request_id, user_agent, source_ip, cause, prev_hash, hash)
    SELECT x.seq, x.at::timestamptz, x.type, x.group, x.resource, x.namespace, x.name, x.uid, x.object,
           decode(x."objectDigest", 'hex'), x.actor, x.verb, x."requestId", x."userAgent", x."sourceIp",
           x.cause, decode(x."prevHash", 'hex'), decode(x.hash, 'hex')
      FROM x
    RETURNING 1
  ), i AS (
    INSERT INTO ${s}.resources (api_group, resource, namespace, name, uid, resource_version, object)
    SELECT x.group, x.resource, x.namespace, x.name, x.uid, x.seq, x.object
      FROM x JOIN unnest(insert_seqs) AS r(seq) ON r.seq = x.seq
    ON CONFLICT DO NOTHING
    RETURNING 1
  ), u AS (
    UPDATE ${s}.resources t SET uid = x.uid, resource_version = x.seq, object = x.object
      FROM x JOIN unnest(update_seqs, update_expected) AS r(seq, expected) ON r.seq = x.seq
     WHERE t.api_group = x.group AND t.resource = x.resource AND t.namespace = x.namespace
       AND t.name = x.name AND t.resource_version = r.expected
    RETURNING 1
  ), d AS (
    DELETE FROM ${s}.resources t
     USING x JOIN unnest(delete_seqs, delete_expected) AS r(seq, expected) ON r.seq = x.seq
     WHERE t.api_group = x.group AND t.resource = x.resource AND t.namespace = x.namespace
       AND t.name = x.name AND t.resource_version = r.expected
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM i), (SELECT count(*) FROM u), (SELECT count(*) FROM d)
    INTO appended, inserted, updated, deleted;

  UPDATE ${s}.log_head SET seq = new_seq, hash = new_hash, at = new_at WHERE id = 1;
  PERFORM ${s}.assert_applied(planned, ARRAY[inserted, updated, deleted, appended]);
  PERFORM pg_notify('${NOTIFY_CHANNEL}', new_seq::text);
END $$;
GRANT EXECUTE ON FUNCTION ${s}.append_batch(bigint, bytea, text, bigint[], bigint[], bigint[], bigint[], bigint[],
                                            bigint, bytea, timestamptz, int[])
  TO ${appRole};
`,
  },
  {
    version: 5,
    name: 'append_batch in fewer, smaller statements',
    sql: ({ schema: s }) => `
-- Version 4's append_batch, same arguments and meaning, with less work per call. A lone
-- append cost 290 us of Postgres CPU, a sixth of it setting up the executor for the four-CTE
-- statement, whose unused parts (a batch of updates inserts and deletes no object) were set
-- up all the same; with this body, 242-261 us (two runs of the event-store bench). Now:
--  * the head is locked and advanced by one conditional UPDATE: in READ COMMITTED it waits
--    for a concurrent holder and re-checks the condition on the newest row, so a moved head
--    matches no row and the batch is refused (40001), as lock_head() refused it;
--  * the batch's JSON is parsed once into a variable, and each projection write is its own
--    statement, run only when the batch has rows for it;
--  * the row-count check is inline instead of a function call.
-- Replacing the body keeps the signature, so an API server of the previous release calls this
-- one with the same arguments and the same outcome.
CREATE OR REPLACE FUNCTION ${s}.append_batch${APPEND_BATCH_PARAMS} RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  batch jsonb := events::jsonb;
  appended int;
  inserted int := 0;
  updated int := 0;
  deleted int := 0;
BEGIN
  UPDATE ${s}.log_head SET seq = new_seq, hash = new_hash, at = new_at
   WHERE id = 1 AND seq = expected_seq AND hash = expected_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the log head moved: planned on seq %, found seq %',
      expected_seq, (SELECT seq FROM ${s}.log_head WHERE id = 1) USING ERRCODE = 'serialization_failure';
  END IF;

  INSERT INTO ${s}.events (seq, at, type, api_group, resource, namespace, name, uid, object, object_digest,
                           actor, verb, request_id, user_agent, source_ip, cause, prev_hash, hash)
  SELECT x.seq, x.at::timestamptz, x.type, x.group, x.resource, x.namespace, x.name, x.uid, x.object,
         decode(x."objectDigest", 'hex'), x.actor, x.verb, x."requestId", x."userAgent", x."sourceIp",
         x.cause, decode(x."prevHash", 'hex'), decode(x.hash, 'hex')
    FROM jsonb_to_recordset(batch) AS x(
         seq bigint, at text, type text, "group" text, resource text, namespace text, name text, uid uuid,
         object jsonb, "objectDigest" text, actor jsonb, verb text, "requestId" text, "userAgent" text,
         "sourceIp" text, cause bigint, "prevHash" text, hash text);
  GET DIAGNOSTICS appended = ROW_COUNT;

  IF cardinality(insert_seqs) > 0 THEN
    INSERT INTO ${s}.resources (api_group, resource, namespace, name, uid, resource_version, object)
    SELECT x.group, x.resource, x.namespace, x.name, x.uid, x.seq, x.object
      FROM jsonb_to_recordset(batch)
        AS x(seq bigint, "group" text, resource text, namespace text, name text, uid uuid, object jsonb)
      JOIN unnest(insert_seqs) AS r(seq) ON r.seq = x.seq
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
  END IF;

  IF cardinality(update_seqs) > 0 THEN
    UPDATE ${s}.resources t SET uid = x.uid, resource_version = x.seq, object = x.object
      FROM jsonb_to_recordset(batch)
        AS x(seq bigint, "group" text, resource text, namespace text, name text, uid uuid, object jsonb)
      JOIN unnest(update_seqs, update_expected) AS r(seq, expected) ON r.seq = x.seq
     WHERE t.api_group = x.group AND t.resource = x.resource AND t.namespace = x.namespace
       AND t.name = x.name AND t.resource_version = r.expected;
    GET DIAGNOSTICS updated = ROW_COUNT;
  END IF;

  IF cardinality(delete_seqs) > 0 THEN
    DELETE FROM ${s}.resources t
     USING jsonb_to_recordset(batch)
        AS x(seq bigint, "group" text, resource text, namespace text, name text)
      JOIN unnest(delete_seqs, delete_expected) AS r(seq, expected) ON r.seq = x.seq
     WHERE t.api_group = x.group AND t.resource = x.resource AND t.namespace = x.namespace
       AND t.name = x.name AND t.resource_version = r.expected;
    GET DIAGNOSTICS deleted = ROW_COUNT;
  END IF;

  IF planned IS DISTINCT FROM ARRAY[inserted, updated, deleted, appended] THEN
    RAISE EXCEPTION 'rows changed under the log-head lock: planned insert/update/delete/append %, applied %',
      planned, ARRAY[inserted, updated, deleted, appended] USING ERRCODE = 'serialization_failure';
  END IF;
  PERFORM pg_notify('${NOTIFY_CHANNEL}', new_seq::text);
END $$;
`,
  },
];
