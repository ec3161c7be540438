import { StatusError } from '../errors/index.js';
import { isObject } from './merge-patch.js';

/**
 * Strategic merge patch, the default of `kubectl patch`, `set image` and `rollout restart`:
 * a merge patch in which lists of objects that have a merge key (containers by `name`, ports
 * by `containerPort`, ...) merge element by element, with the directives `$patch`
 * (merge|replace|delete), `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
 * `$retainKeys`. Lists without a merge key are replaced, as upstream does for atomic lists.
 *
 * Merge keys are upstream's struct tags for the built-in kinds, keyed here by list field name
 * (and, for `ports`, by whether the list belongs to a container or a Service).
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  ownerReferences: 'uid',
  conditions: 'type',
  resourceClaims: 'name',
  schedulingGates: 'name',
  readinessGates: 'conditionType',
  addresses: 'type',
  subsets: '',
};

/** Lists of primitives that merge as sets (upstream patchStrategy:"merge" on []string). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKeyOf(field: string, path: string[]): string | undefined {
  if (field === 'ports') return path.length === 1 && path[0] === 'spec' ? 'port' : 'containerPort';
  const key = MERGE_KEYS[field];
  return key ? key : undefined;
}

export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw StatusError.badRequest('strategic merge patch must be a JSON object');
  return mergeMap(isObject(target) ? target : {}, patch, []);
}

function mergeMap(target: Record<string, unknown>, patch: Record<string, unknown>, path: string[]): unknown {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    void _drop;
    return stripDirectives(rest);
  }
  const out: Record<string, unknown> = { ...target };
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field]))
        out[field] = (out[field] as unknown[]).filter((x) => !remove.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, [...path, k]);
    } else if (isObject(v)) {
      const merged = mergeMap(isObject(out[k]) ? (out[k] as Record<string, unknown>) : {}, v, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
    const order = patch[`$setElementOrder/${k}`];
    if (Array.isArray(order) && Array.isArray(out[k]))
      out[k] = reorder(out[k] as unknown[], order, mergeKeyOf(k, path));
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/')) continue;
    const field = k.slice('$setElementOrder/'.length);
    if (!(field in patch) && Array.isArray(out[field]) && Array.isArray(order))
      out[field] = reorder(out[field] as unknown[], order, mergeKeyOf(field, path));
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  return out;
}

function mergeList(field: string, target: unknown[], patch: unknown[], path: string[]): unknown[] {
  const parentPath = path.slice(0, -1);
  const key = mergeKeyOf(field, parentPath);
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
    return out;
  }
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  if (!key) return patch.map(stripDirectives);
  const out = [...target];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = mergeMap(out[index] as Record<string, unknown>, item, path);
    else out.push(stripDirectives(item));
  }
  return out;
}

/** Orders `list` as `order` says (by merge key); elements it does not name keep their place at the end. */
function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown) => JSON.stringify(key && isObject(x) ? x[key] : x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  return [...list].sort((a, b) => (rank.get(id(a)) ?? order.length) - (rank.get(id(b)) ?? order.length));
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}
