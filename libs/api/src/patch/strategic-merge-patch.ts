import { StatusError } from '../errors/index.js';
import { isObject } from './merge-patch.js';
import { ownValue, setOwn } from './own-property.js';
import { listStrategy, type ListStrategy } from './patch-strategies.js';

/**
 * Strategic merge patch, the default of `kubectl patch`, and what `kubectl apply` (client-side),
 * `set image|env|resources` and `rollout restart` send: a merge patch in which lists with a
 * merge key (containers by `name`, container ports by `containerPort`, ...; see
 * patch-strategies.ts) merge element by element and lists of primitives with the merge
 * strategy (finalizers) merge as sets. Directives, as upstream's strategicpatch package reads
 * them:
 * - `$patch: replace` (a map, or an element of a list) replaces instead of merging;
 *   `$patch: delete` removes a map or a keyed list element; `$patch: merge` is the default;
 * - `$setElementOrder/<list>` gives the order of the merged list by merge key;
 * - `$deleteFromPrimitiveList/<list>` removes values from a merged primitive list;
 * - `$retainKeys` lists the only keys the patched map keeps (union types such as a volume's
 *   source or a deployment's strategy);
 * - `null` removes a field.
 * Malformed directives are 400 BadRequest, as upstream answers them, never silently ignored.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw StatusError.badRequest('strategic merge patch must be a JSON object');
  return mergeMap(isObject(target) ? target : {}, patch, []) ?? {};
}

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';

function mergeMap(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> | undefined {
  const directive = patchDirective(patch, path);
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(ELEMENT_ORDER)) continue;
    if (k.startsWith(DELETE_FROM_PRIMITIVE)) {
      deleteFromPrimitiveList(out, k.slice(DELETE_FROM_PRIMITIVE.length), v, path);
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) setOwn(out, k, mergeList(k, ownValue(out, k), v, path));
    else if (isObject(v)) {
      const current = ownValue(out, k);
      const merged = mergeMap(isObject(current) ? current : {}, v, [...path, k]);
      if (merged === undefined) delete out[k];
      else setOwn(out, k, merged);
    } else setOwn(out, k, v);
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(ELEMENT_ORDER)) continue;
    const field = k.slice(ELEMENT_ORDER.length);
    if (!Array.isArray(order))
      throw StatusError.badRequest(`invalid patch: ${k} must be a list, at ${where(path)}`);
    if (Array.isArray(out[field])) setOwn(out, field, reorder(out[field], order, listStrategy(field, path)));
  }
  retainKeys(out, patch, path);
  return out;
}

function mergeList(
  field: string,
  current: unknown,
  patch: unknown[],
  parentPath: readonly string[],
): unknown[] {
  const target = Array.isArray(current) ? current : [];
  const strategy = listStrategy(field, parentPath);
  const listPath = [...parentPath, field];
  if (!strategy) return patch.map(stripDirectives);
  if (strategy.mergeKey === undefined) return mergePrimitives(target, patch);
  const key = strategy.mergeKey;
  const replace = patch.filter((p) => isObject(p) && p[PATCH] === 'replace');
  if (replace.length) return patch.filter((p) => !replace.includes(p)).map(stripDirectives);
  const out = [...target];
  for (const item of patch) {
    if (!isObject(item))
      throw StatusError.badRequest(`invalid patch: ${where(listPath)} must hold maps merged by ${key}`);
    const directive = patchDirective(item, listPath);
    if (!(key in item))
      throw StatusError.badRequest(
        `map: ${JSON.stringify(stripDirectives(item))} does not contain declared merge key: ${key}`,
      );
    const index = out.findIndex((x) => isObject(x) && sameValue(x[key], item[key]));
    if (directive === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeMap(out[index] as Record<string, unknown>, item, listPath);
      if (merged === undefined) out.splice(index, 1);
      else out[index] = merged;
    } else out.push(stripDirectives(item));
  }
  return out;
}

/** A set of primitives: values the patch adds are appended once; removals come through $deleteFromPrimitiveList. */
function mergePrimitives(target: readonly unknown[], patch: readonly unknown[]): unknown[] {
  const out = [...target];
  for (const v of patch) {
    if (isObject(v) || Array.isArray(v))
      throw StatusError.badRequest('invalid patch: a list of primitives cannot hold maps or lists');
    if (!out.some((x) => x === v)) out.push(v);
  }
  return out;
}

function deleteFromPrimitiveList(
  out: Record<string, unknown>,
  field: string,
  values: unknown,
  path: readonly string[],
): void {
  if (!Array.isArray(values))
    throw StatusError.badRequest(
      `invalid patch: ${DELETE_FROM_PRIMITIVE}${field} must be a list, at ${where(path)}`,
    );
  const list = out[field];
  if (Array.isArray(list))
    setOwn(
      out,
      field,
      list.filter((x) => !values.some((v) => sameValue(v, x))),
    );
}

/** `$retainKeys`: keys of the result not in the list are cleared; the patch may not set keys outside it. */
function retainKeys(
  out: Record<string, unknown>,
  patch: Record<string, unknown>,
  path: readonly string[],
): void {
  const retain = patch[RETAIN_KEYS];
  if (retain === undefined) return;
  if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string'))
    throw StatusError.badRequest(
      `invalid patch: ${RETAIN_KEYS} must be a list of strings, at ${where(path)}`,
    );
  const keep = new Set(retain);
  for (const k of Object.keys(patch))
    if (!k.startsWith('$') && patch[k] !== null && !keep.has(k))
      throw StatusError.badRequest(
        `invalid patch: ${RETAIN_KEYS} at ${where(path)} does not name ${JSON.stringify(k)}, which the patch sets`,
      );
  for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
}

/**
 * Orders `list` as `order` says, by merge key (or value, for primitives). Elements the order
 * does not name (the server's own, which the client did not know of) keep their relative
 * place after the named ones, as upstream's normalizeElementOrder leaves them.
 */
function reorder(list: unknown[], order: unknown[], strategy: ListStrategy | undefined): unknown[] {
  const key = strategy?.mergeKey;
  const id = (x: unknown) => JSON.stringify(key !== undefined && isObject(x) ? x[key] : x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  return list
    .map((item, i) => ({ item, rank: rank.get(id(item)) ?? order.length + i }))
    .sort((a, b) => a.rank - b.rank)
    .map((e) => e.item);
}

function patchDirective(
  map: Record<string, unknown>,
  path: readonly string[],
): 'merge' | 'replace' | 'delete' {
  const d = map[PATCH];
  if (d === undefined || d === 'merge') return 'merge';
  if (d === 'replace' || d === 'delete') return d;
  throw StatusError.badRequest(`Unknown patch type: ${JSON.stringify(d)} in map at ${where(path)}`);
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && x[PATCH] === 'delete')).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) setOwn(out, k, stripDirectives(x));
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function where(path: readonly string[]): string {
  return path.length ? path.join('.') : '<root>';
}
