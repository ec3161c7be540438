import { jsonEqual } from '../apply/object-fields.js';
import { type StatusCause } from '../errors/index.js';

/** Reading a pod (or its spec, or a container) as the JSON it is, for the pod validations. */
export type Json = Record<string, unknown>;

/** The object's `spec`, or an empty one. */
export function specOf(o: Json): Json {
  return o.spec && typeof o.spec === 'object' && !Array.isArray(o.spec) ? (o.spec as Json) : {};
}

/** A list field's items as objects (a malformed item reads as empty); none when absent. */
export function listOf(o: Json, field: string): Json[] {
  const v = o[field];
  return Array.isArray(v) ? (v as unknown[]).map((x) => (x && typeof x === 'object' ? (x as Json) : {})) : [];
}

export function forbidden(field: string, message: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${message}`, field };
}

/**
 * apiequality.Semantic.DeepEqual as far as JSON shows it. Upstream compares decoded structs,
 * where an absent field and its zero value are one (omitempty drops it again), and nil and
 * empty lists and maps are equal: so null, false, 0, "", [] and {} all read as absent here. A
 * client that decoded into such structs and sends the object back without them changed nothing.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return jsonEqual(withoutZeros(a), withoutZeros(b));
}

/** The keys whose values differ between two objects (semantically), sorted: a diff's outline. */
export function changedKeys(a: Json, b: Json): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => !semanticEqual(a[k], b[k]));
}

function withoutZeros(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => withoutZeros(x) ?? null);
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      const kept = withoutZeros(x);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === null || v === false || v === 0 || v === '' ? undefined : v;
}
