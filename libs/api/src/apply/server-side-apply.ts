import { StatusError } from '../errors/index.js';
import {
  difference,
  emptySet,
  equalSets,
  type FieldPath,
  type FieldSet,
  intersection,
  isEmpty,
  members,
  pathString,
  union,
  withoutPrefixes,
} from './field-set.js';
import { type KindRef } from './list-types.js';
import {
  decodeManagedFields,
  encodeManagedFields,
  identityOf,
  isReset,
  type Manager,
  type ManagedFieldsEntry,
} from './managed-fields.js';
import { compareObjects, fieldSetOf, jsonEqual, mergeApplied, pruneUnowned } from './object-fields.js';

type Obj = Record<string, unknown>;

/** The manager upstream gives the fields of an object that had none when it was first applied to. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Who writes what, and which fields the write does not track. */
export interface TrackContext {
  kind: KindRef;
  /** The group-version the request addressed, e.g. `apps/v1`. */
  apiVersion: string;
  manager: string;
  subresource?: string;
  /** RFC 3339 (seconds) time recorded on the entries this write changes. */
  now: string;
  /**
   * Paths no manager owns (upstream's StripMeta and the strategy's reset fields: `status` on
   * the main resource of a kind with a status subresource, the rest on `/status`).
   */
  ignored: readonly FieldPath[];
}

/** Paths upstream never tracks: identity and server-set metadata. */
export const UNTRACKED: readonly FieldPath[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ...[
    'name',
    'namespace',
    'creationTimestamp',
    'selfLink',
    'uid',
    'clusterName',
    'generation',
    'managedFields',
    'resourceVersion',
  ].map((f) => ['f:metadata', `f:${f}`]),
];

export interface Conflict {
  manager: Manager;
  path: string[];
}

/**
 * Server-side apply of `config` over `live` (undefined: the object does not exist yet) by
 * `c.manager`: the merged object, carrying the new managedFields. Throws the 409 Conflict
 * upstream sends when, without `force`, the apply changes fields another manager owns.
 */
export function serverSideApply(
  c: TrackContext & { live: Obj | undefined; config: Obj; force: boolean },
): Obj {
  const liveBody = c.live ? withoutManagedFields(c.live) : {};
  let managers = c.live ? decodeOrEmpty(metaOf(c.live).managedFields) : [];
  if (c.live && managers.length === 0) {
    // An object nobody tracked yet: what it holds belongs to "before-first-apply", so the
    // applier does not silently take it over.
    const set = withoutPrefixes(fieldSetOf(c.kind, liveBody), c.ignored);
    managers = [
      { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: c.apiVersion, time: c.now, set },
    ];
  }
  const self: Manager = {
    manager: c.manager,
    operation: 'Apply',
    apiVersion: c.apiVersion,
    ...(c.subresource ? { subresource: c.subresource } : {}),
    set: emptySet(),
  };
  const selfId = identityOf(self);
  const previous = managers.find((m) => identityOf(m) === selfId);
  const others = managers.filter((m) => identityOf(m) !== selfId);
  const fullSet = fieldSetOf(c.kind, c.config);
  const applied = withoutPrefixes(fullSet, c.ignored);

  const merged = mergeApplied(c.kind, liveBody, c.config);
  const owned = others.reduce((acc, m) => union(acc, m.set), fullSet);
  const object = previous ? pruneUnowned(c.kind, merged, c.config, previous.set, owned) : merged;
  const cmp = compareObjects(c.kind, liveBody, object);
  const changed = withoutPrefixes(cmp.changed, c.ignored);
  const removed = withoutPrefixes(cmp.removed, c.ignored);
  const conflicts: Conflict[] = others.flatMap((m) =>
    members(intersection(m.set, changed)).map((path) => ({ manager: m, path })),
  );
  if (conflicts.length && !c.force && !allowedByLastApplied(c, liveBody, conflicts))
    throw applyConflict(conflicts);
  // Forced (or forgiven): what the applier changed leaves its owners, as does what went away.
  const kept = others.map((m) => withSet(m, difference(difference(m.set, changed), removed)));
  syncLastApplied(c, object);
  const unchanged = previous && jsonEqual(liveBody, object) && equalSets(previous.set, applied);
  const mine: Manager = unchanged ? previous : { ...self, time: c.now, set: applied };
  return withManagedFields(object, encodeManagedFields([mine, ...kept]));
}

/**
 * Records a create, update or non-apply patch by `c.manager` (operation Update): the fields it
 * changed become its own and leave every other manager (upstream's managedFieldsUpdater).
 * Returns the managedFields `next` should carry; undefined: none (untracked, or reset by `[{}]`).
 */
export function trackUpdate(
  c: TrackContext & { live: Obj | undefined; next: Obj },
): ManagedFieldsEntry[] | undefined {
  const provided = metaOf(c.next).managedFields;
  if (isReset(provided)) return undefined;
  // Entries the client sent win (that is how they are edited), except on a subresource.
  let managers: Manager[] | undefined;
  if (!c.subresource && Array.isArray(provided) && provided.length > 0) {
    try {
      managers = decodeManagedFields(provided);
    } catch {
      managers = undefined;
    }
  }
  if (!managers) {
    managers = c.live ? decodeOrEmpty(metaOf(c.live).managedFields) : [];
    // An object that exists untracked stays untracked until it is applied to (upstream's skipNonApplied).
    if (c.live && managers.length === 0) return undefined;
  }
  const cmp = compareObjects(
    c.kind,
    c.live ? withoutManagedFields(c.live) : {},
    withoutManagedFields(c.next),
  );
  const changed = withoutPrefixes(cmp.changed, c.ignored);
  const removed = withoutPrefixes(cmp.removed, c.ignored);
  const self: Manager = {
    manager: c.manager,
    operation: 'Update',
    apiVersion: c.apiVersion,
    ...(c.subresource ? { subresource: c.subresource } : {}),
    set: emptySet(),
  };
  const selfId = identityOf(self);
  const previous = managers.find((m) => identityOf(m) === selfId);
  const out = managers
    .filter((m) => identityOf(m) !== selfId)
    .map((m) => withSet(m, difference(difference(m.set, changed), removed)));
  if (!isEmpty(changed))
    out.push({
      ...self,
      time: c.now,
      set: union(previous ? difference(previous.set, removed) : emptySet(), changed),
    });
  else if (previous) out.push(withSet(previous, difference(previous.set, removed)));
  return encodeManagedFields(capUpdateManagers(out));
}

/** Most Update entries an object keeps; older ones merge into "ancient-changes" (upstream's capManagersManager). */
export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES = 'ancient-changes';

/**
 * Keeps the number of Update entries bounded, so objects written by many clients do not grow
 * without end: the oldest merge, per apiVersion, into one "ancient-changes" entry.
 */
function capUpdateManagers(managers: Manager[]): Manager[] {
  const updaters = managers.filter((m) => m.operation === 'Update' && !isEmpty(m.set));
  if (updaters.length <= MAX_UPDATE_MANAGERS) return managers;
  const secondsOf = (m: Manager) => (m.time ? Math.floor(Date.parse(m.time) / 1000) || 0 : 0);
  updaters.sort((a, b) => secondsOf(a) - secondsOf(b) || (identityOf(a) < identityOf(b) ? -1 : 1));
  const out = new Set(managers);
  const buckets = new Map<string, Manager>();
  for (const m of updaters) if (m.manager === ANCIENT_CHANGES && !m.subresource) buckets.set(m.apiVersion, m);
  let count = updaters.length;
  for (const m of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const bucket = buckets.get(m.apiVersion);
    if (bucket === m) continue;
    if (!bucket) {
      // The first of a version is where the next ones of that version go.
      buckets.set(m.apiVersion, m);
      continue;
    }
    out.delete(bucket);
    out.delete(m);
    const merged: Manager = {
      manager: ANCIENT_CHANGES,
      operation: 'Update',
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      set: union(bucket.set, m.set),
    };
    out.add(merged);
    buckets.set(m.apiVersion, merged);
    count--;
  }
  return [...out];
}

/** The 409 upstream answers an apply with conflicts (NewApplyConflict), one cause per field. */
export function applyConflict(conflicts: readonly Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => {
    const ia = identityOf(a.manager);
    const ib = identityOf(b.manager);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  const causes = sorted.map((x) => ({
    reason: 'FieldManagerConflict' as const,
    message: `conflict with ${describe(x.manager)}`,
    field: pathString(x.path),
  }));
  let message: string;
  if (sorted.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describe(sorted[0].manager)}: ${pathString(sorted[0].path)}`;
  } else {
    const lines: string[] = [];
    let last = '';
    for (const x of sorted) {
      const id = identityOf(x.manager);
      if (id !== last) lines.push(`conflicts with ${describe(x.manager)}:`);
      last = id;
      lines.push(`- ${pathString(x.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError('Conflict', message, { causes });
}

/** A manager as upstream names it in conflicts (printManager). */
function describe(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === 'Update' ? `${s} using ${m.apiVersion}` : s;
}

/**
 * kubectl moving an object from client-side to server-side apply (upstream's lastAppliedManager):
 * its conflicts are forgiven when they are all fields of the last-applied configuration and the
 * live object still holds what that configuration said.
 */
function allowedByLastApplied(c: TrackContext, liveBody: Obj, conflicts: readonly Conflict[]): boolean {
  if (c.manager !== 'kubectl') return false;
  const annotations = metaOf(liveBody).annotations;
  const text =
    typeof annotations === 'object' && annotations ? (annotations as Obj)[LAST_APPLIED] : undefined;
  if (typeof text !== 'string') return false;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof lastApplied !== 'object' || lastApplied === null) return false;
  const lastSet = fieldSetOf(c.kind, lastApplied);
  const cmp = compareObjects(c.kind, lastApplied, liveBody);
  // Fields of the last-applied configuration the live object no longer agrees with.
  const drifted = intersection(lastSet, union(cmp.changed, cmp.removed));
  if (!isEmpty(drifted)) return false;
  return conflicts.every((x) => !isEmpty(intersection(pathSet(x.path), lastSet)));
}

/**
 * kubectl's server-side applies keep an existing client-side last-applied annotation in step
 * (upstream's lastAppliedUpdater), so a later client-side apply diffs against this config.
 */
function syncLastApplied(c: TrackContext & { config: Obj }, object: Obj): void {
  const annotations = metaOf(object).annotations as Obj | undefined;
  if (c.manager !== 'kubectl' || typeof annotations?.[LAST_APPLIED] !== 'string') return;
  const config = structuredClone(c.config);
  const meta = metaOf(config);
  if (typeof meta.annotations === 'object' && meta.annotations !== null)
    delete (meta.annotations as Obj)[LAST_APPLIED];
  annotations[LAST_APPLIED] = `${JSON.stringify(sortedKeys(config))}\n`;
}

/** A JSON value with its object keys sorted, as Go's encoding/json writes maps. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedKeys((v as Obj)[k])]),
  );
}

function pathSet(path: readonly string[]): FieldSet {
  const s = emptySet();
  let node = s;
  for (const el of path) {
    const next = emptySet();
    node.children.set(el, next);
    node = next;
  }
  node.member = true;
  return s;
}

function withSet(m: Manager, set: FieldSet): Manager {
  if (equalSets(set, m.set)) return m;
  const { entry: _stale, ...rest } = m;
  void _stale;
  return { ...rest, set };
}

function decodeOrEmpty(raw: unknown): Manager[] {
  try {
    return decodeManagedFields(raw);
  } catch {
    return [];
  }
}

function metaOf(o: Obj): Obj {
  return typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Obj) : {};
}

function withoutManagedFields(o: Obj): Obj {
  const meta = { ...metaOf(o) };
  delete meta.managedFields;
  return { ...o, metadata: meta };
}

function withManagedFields(o: Obj, entries: ManagedFieldsEntry[]): Obj {
  const meta = { ...metaOf(o) };
  if (entries.length) meta.managedFields = entries;
  else delete meta.managedFields;
  return { ...o, metadata: meta };
}
