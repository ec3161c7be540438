import { emptySet, type FieldSet, insert, isEmpty } from './field-set.js';
import { isAtomicObject, isStruct, type KindRef, listTypeOf } from './list-types.js';

/**
 * The object-walking half of server-side apply: the field set an object sets, what changed
 * between two objects, the apply merge and the removal of fields nobody owns any more. Paths
 * are FieldsV1 elements (see field-set.ts); `names` is the chain of field names the list-type
 * table is keyed by.
 */
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Equal as JSON values (prototypes aside: structuredClone may come from another realm). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObj(a) || !isObj(b)) return false;
  const ak = Object.keys(a).filter((k) => a[k] !== undefined);
  const bk = Object.keys(b).filter((k) => b[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(a[k], b[k]));
}

/**
 * The element of each list item, or undefined when the list is atomic (by the table, or because
 * an item cannot be keyed: not an object, a key missing, or a duplicate).
 */
function elementsOf(kind: KindRef, names: readonly string[], list: unknown[]): string[] | undefined {
  const lt = listTypeOf(kind, names);
  if (lt.type === 'atomic') return undefined;
  const els: string[] = [];
  for (const item of list) {
    let el: string;
    if (lt.type === 'set') {
      if (isObj(item) || Array.isArray(item)) return undefined;
      el = `v:${JSON.stringify(item)}`;
    } else {
      if (!isObj(item)) return undefined;
      const key: Obj = {};
      for (const k of [...lt.keys].sort()) {
        const v = item[k] ?? lt.defaults?.[k];
        if (v !== undefined) key[k] = v;
      }
      if (Object.keys(key).length === 0) return undefined;
      el = `k:${JSON.stringify(key)}`;
    }
    els.push(el);
  }
  return new Set(els).size === els.length ? els : undefined;
}

/** The fields `obj` sets (upstream's ToFieldSet): scalars, atomic values and list items; empty objects set nothing. */
export function fieldSetOf(kind: KindRef, obj: unknown): FieldSet {
  const out = emptySet();
  const walk = (v: unknown, names: string[], path: string[]) => {
    if (Array.isArray(v)) {
      const els = elementsOf(kind, names, v);
      if (!els) return insert(out, path);
      const isMap = listTypeOf(kind, names).type === 'map';
      v.forEach((item, i) => {
        insert(out, [...path, els[i]]);
        if (isMap) walkFields(item as Obj, names, [...path, els[i]]);
      });
    } else if (isObj(v)) {
      if (path.length > 0 && isAtomicObject(names)) return insert(out, path);
      walkFields(v, names, path);
    } else {
      insert(out, path);
    }
  };
  const walkFields = (o: Obj, names: string[], path: string[]) => {
    for (const [k, child] of Object.entries(o))
      if (child !== undefined) walk(child, [...names, k], [...path, `f:${k}`]);
  };
  if (isObj(obj)) walkFields(obj, [], []);
  return out;
}

export interface Comparison {
  /** Paths set or changed (upstream's Modified ∪ Added). */
  changed: FieldSet;
  removed: FieldSet;
}

/**
 * What changed from `before` to `after` (upstream's Compare): changed and removed leaves, plus
 * the paths of list items and of objects that appeared or went away as a whole.
 */
export function compareObjects(kind: KindRef, before: unknown, after: unknown): Comparison {
  const changed = emptySet();
  const removed = emptySet();
  const isEmptyObj = (v: unknown) =>
    v === undefined || v === null || (isObj(v) && Object.keys(v).length === 0);
  const leaf = (a: unknown, b: unknown, path: string[]) => {
    if (path.length === 0 || (a === undefined && b === undefined)) return;
    if (a === undefined) insert(changed, path);
    else if (b === undefined) insert(removed, path);
    else if (!jsonEqual(a, b)) insert(changed, path);
  };
  const walk = (a: unknown, b: unknown, names: string[], path: string[]) => {
    const lists = (a === undefined || Array.isArray(a)) && (b === undefined || Array.isArray(b));
    if (lists && (a !== undefined || b !== undefined)) {
      const al = (a ?? []) as unknown[];
      const bl = (b ?? []) as unknown[];
      const ae = elementsOf(kind, names, al);
      const be = elementsOf(kind, names, bl);
      if (!ae || !be) return leaf(a, b, path);
      const isMap = listTypeOf(kind, names).type === 'map';
      const before = new Map(ae.map((el, i) => [el, al[i]]));
      const after = new Map(be.map((el, i) => [el, bl[i]]));
      for (const [el, item] of after) {
        if (!before.has(el)) insert(changed, [...path, el]);
        if (isMap) walkFields(before.get(el), item, names, [...path, el]);
      }
      for (const [el, item] of before)
        if (!after.has(el)) {
          insert(removed, [...path, el]);
          if (isMap) walkFields(item, undefined, names, [...path, el]);
        }
      return;
    }
    const objects =
      (a === undefined || a === null || isObj(a)) && (b === undefined || b === null || isObj(b));
    if (objects && (isObj(a) || isObj(b))) {
      if ((path.length > 0 && isAtomicObject(names)) || (isEmptyObj(a) && isEmptyObj(b)))
        return leaf(a, b, path);
      // A map that appears or goes as a whole is itself a path (upstream records labels as
      // `".": {}`); a struct is not, as upstream's always-present Go structs are not.
      const whole = path.length > 0 && !isStruct(names);
      if (whole && !isObj(a) && !isEmptyObj(b)) insert(changed, path);
      if (whole && !isObj(b) && !isEmptyObj(a)) insert(removed, path);
      return walkFields(a, b, names, path);
    }
    leaf(a, b, path);
  };
  const walkFields = (a: unknown, b: unknown, names: string[], path: string[]) => {
    const ao = isObj(a) ? a : {};
    const bo = isObj(b) ? b : {};
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)]))
      walk(ao[k], bo[k], [...names, k], [...path, `f:${k}`]);
  };
  walk(before ?? {}, after ?? {}, [], []);
  return { changed, removed };
}

/**
 * The applied configuration merged into the live object: objects merge field by field,
 * associative lists and sets item by item (the configuration's order wins among the items both
 * have; items only live keep their place), everything else is replaced. A `null` in the
 * configuration unsets the field.
 */
export function mergeApplied(kind: KindRef, live: unknown, config: Obj): Obj {
  const merge = (l: unknown, r: unknown, names: string[]): unknown => {
    if (Array.isArray(r)) return Array.isArray(l) ? mergeLists(l, r, names) : structuredClone(r);
    if (isObj(r) && !(names.length > 0 && isAtomicObject(names)))
      return mergeFields(isObj(l) ? l : {}, r, names);
    return structuredClone(r);
  };
  const mergeFields = (l: Obj, r: Obj, names: string[]): Obj => {
    const out: Obj = { ...l };
    for (const [k, v] of Object.entries(r)) {
      if (v === undefined) continue;
      if (v === null) delete out[k];
      else out[k] = merge(l[k], v, [...names, k]);
    }
    return out;
  };
  const mergeLists = (l: unknown[], r: unknown[], names: string[]): unknown[] => {
    const le = elementsOf(kind, names, l);
    const re = elementsOf(kind, names, r);
    if (!le || !re) return structuredClone(r);
    const isMap = listTypeOf(kind, names).type === 'map';
    const item = (li: unknown, ri: unknown) =>
      isMap ? mergeFields(isObj(li) ? li : {}, ri as Obj, names) : ri;
    const lByEl = new Map(le.map((el, i) => [el, l[i]]));
    const rSet = new Set(re);
    // The items both sides have, in the configuration's order: live-only items stay where
    // they are, and shared ones are laid out in this order (upstream's merge does the same).
    const shared = re.filter((el) => lByEl.has(el));
    let nextShared = 0;
    const done = new Set<string>();
    const out: unknown[] = [];
    let li = 0;
    let ri = 0;
    const takeRight = () => {
      const el = re[ri];
      done.add(el);
      out.push(item(lByEl.get(el), r[ri]));
      if (shared[nextShared] === el) nextShared++;
      ri++;
    };
    while (li < l.length || ri < r.length) {
      if (li < l.length && ri < r.length) {
        const el = le[li];
        if (el === re[ri]) {
          li++;
          takeRight();
          continue;
        }
        if (rSet.has(el) && nextShared < shared.length && shared[nextShared] !== el) {
          li++;
          continue;
        }
      }
      if (li < l.length) {
        const el = le[li];
        if (!rSet.has(el)) {
          out.push(l[li]);
          li++;
          continue;
        }
        if (done.has(el)) {
          li++;
          continue;
        }
      }
      if (ri < r.length) takeRight();
      else li++;
    }
    return out;
  };
  return mergeFields(isObj(live) ? structuredClone(live) : {}, config, []);
}

/**
 * Removes from `obj` what the applier set last time (`last`) and nobody owns now (`owned`, every
 * manager's set after this apply). A struct field counts as set when anything under it was
 * (upstream's EnsureNamedFieldsAreMembers), so a block the applier dropped goes as a whole;
 * fields nobody ever owned (defaults) stay unless what holds them goes. A map or list this
 * empties goes too, unless the configuration (`config`) has it, empty.
 */
export function pruneUnowned(kind: KindRef, obj: Obj, config: Obj, last: FieldSet, owned: FieldSet): Obj {
  const out = structuredClone(obj);
  const covered = (s: FieldSet | undefined) => !isEmpty(s);
  const walkFields = (
    o: Obj,
    cfg: unknown,
    lastNode: FieldSet,
    ownedNode: FieldSet | undefined,
    names: string[],
  ) => {
    for (const [el, child] of lastNode.children) {
      if (!el.startsWith('f:')) continue;
      const k = el.slice(2);
      if (!(k in o)) continue;
      const ownedChild = ownedNode?.children.get(el);
      const v = o[k];
      const cfgChild = isObj(cfg) ? cfg[k] : undefined;
      const childNames = [...names, k];
      // metadata holds what no field set names (name, uid, ...): only its fields go, never it.
      const struct = isObj(v) && isStruct(childNames) && !(names.length === 0 && k === 'metadata');
      // A struct the configuration still has (even empty) stays; only what it no longer sets goes.
      const prunable = child.member || (struct && child.children.size > 0 && cfgChild === undefined);
      if (prunable && !covered(ownedChild)) {
        delete o[k];
        continue;
      }
      const size = (x: unknown) => (Array.isArray(x) ? x.length : isObj(x) ? Object.keys(x).length : -1);
      const before = size(v);
      if (Array.isArray(v)) o[k] = walkList(v, cfgChild, child, ownedChild, childNames);
      else if (isObj(v)) walkFields(v, cfgChild, child, ownedChild, childNames);
      if (before > 0 && size(o[k]) === 0 && cfgChild === undefined && !covered(ownedChild)) delete o[k];
    }
  };
  const walkList = (
    list: unknown[],
    cfg: unknown,
    lastNode: FieldSet,
    ownedNode: FieldSet | undefined,
    names: string[],
  ) => {
    const els = elementsOf(kind, names, list);
    if (!els) return list;
    const cfgList = Array.isArray(cfg) ? cfg : [];
    const cfgEls = elementsOf(kind, names, cfgList) ?? [];
    const isMap = listTypeOf(kind, names).type === 'map';
    const kept: unknown[] = [];
    list.forEach((item, i) => {
      const child = lastNode.children.get(els[i]);
      const ownedChild = ownedNode?.children.get(els[i]);
      if (child?.member && !covered(ownedChild)) return;
      const cfgItem = cfgList[cfgEls.indexOf(els[i])];
      if (child && isMap && isObj(item)) walkFields(item, cfgItem, child, ownedChild, names);
      kept.push(item);
    });
    return kept;
  };
  walkFields(out, config, last, owned, []);
  return out;
}
