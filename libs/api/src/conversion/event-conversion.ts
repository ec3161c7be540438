/**
 * events.k8s.io/v1 Event and core/v1 Event are one kind in two shapes, kept in one store in
 * the core shape (upstream pkg/apis/events/v1 conversion): these rename the fields between them.
 */
type Json = Record<string, unknown>;

/** events.k8s.io/v1 field → core/v1 field. */
const RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

export function eventsV1ToCore(o: Json): Json {
  const out: Json = { ...o };
  for (const [from, to] of RENAMES) {
    delete out[from];
    if (o[from] !== undefined) out[to] = o[from];
  }
  return out;
}

export function coreToEventsV1(o: Json): Json {
  const out: Json = { ...o };
  for (const [to, from] of RENAMES) {
    delete out[from];
    if (o[from] !== undefined) out[to] = o[from];
  }
  return out;
}

interface Served {
  group: string;
  version: string;
  kind: string;
}

/** An object from the store in the shape (and apiVersion, kind) of the group-version serving it. */
export function toServed<T extends Json>(t: Served, stored: T): T {
  const out: Json = t.group === 'events.k8s.io' ? coreToEventsV1(stored) : { ...stored };
  out.apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
  out.kind = t.kind;
  return out as T;
}

/** An object as a client of `t` sent it, in the shape its store keeps. */
export function toStored<T extends Json>(t: Served, served: T): T {
  if (t.group !== 'events.k8s.io') return served;
  return { ...eventsV1ToCore(served), apiVersion: 'v1', kind: 'Event' } as unknown as T;
}
