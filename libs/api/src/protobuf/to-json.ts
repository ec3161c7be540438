import { type FieldShape, type MessageShape, type ProtobufSchema } from './schema.js';
import { type Decoded, has, specialToJson, specialZero, toNumber } from './special-types.js';

/**
 * The JSON Go's encoding/json would write for a decoded message: gogo sends every non-pointer
 * field, zero or not, so zero values are dropped where the Go field has `omitempty` and kept
 * where it has not; pointers are rendered exactly when sent.
 */
export function messageToJson(
  schema: ProtobufSchema,
  shape: MessageShape,
  m: Decoded,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of shape.fields) {
    if (f.inline) {
      const nested = f.value.kind === 'message' ? schema.message(f.value.message) : undefined;
      if (!nested) throw new Error(`${shape.fullName}.${f.name}: only messages can be inline`);
      Object.assign(out, messageToJson(schema, nested, has(m, f.name) ? (m[f.name] as Decoded) : {}));
      continue;
    }
    const v = fieldToJson(schema, f, m);
    if (v !== OMIT) out[f.name] = v;
  }
  return out;
}

const OMIT = Symbol('omit');

function fieldToJson(schema: ProtobufSchema, f: FieldShape, m: Decoded): unknown {
  const v = m[f.name];
  if (f.map) {
    const entries = v && typeof v === 'object' ? Object.entries(v as Decoded) : [];
    if (entries.length === 0) return f.always ? null : OMIT;
    return Object.fromEntries(entries.map(([k, x]) => [k, valueToJson(schema, f, x)]));
  }
  if (f.repeated) {
    const items = Array.isArray(v) ? v : [];
    if (items.length === 0) return f.always ? null : OMIT;
    return items.map((x: unknown) => valueToJson(schema, f, x));
  }
  if (has(m, f.name)) {
    const json = valueToJson(schema, f, v);
    return f.pointer || f.always || f.value.kind !== 'scalar' || !isZero(json) ? json : OMIT;
  }
  // Not sent: a nil pointer, or (from an encoder other than gogo) a zero value.
  if (f.pointer) return f.always ? null : OMIT;
  if (f.value.kind === 'scalar')
    return f.always ? (f.value.scalar === 'bytes' ? null : zeroScalar(f.value.scalar)) : OMIT;
  if (f.value.kind === 'special') return specialZero(f.value.special);
  // Go's omitempty never drops a struct.
  return messageToJson(schema, schema.message(f.value.message), {});
}

function valueToJson(schema: ProtobufSchema, f: FieldShape, v: unknown): unknown {
  switch (f.value.kind) {
    case 'scalar':
      return scalarToJson(f.value.scalar, v);
    case 'special':
      return specialToJson(f.value.special, (v ?? {}) as Decoded);
    case 'message':
      return messageToJson(schema, schema.message(f.value.message), (v ?? {}) as Decoded);
  }
}

function scalarToJson(scalar: string, v: unknown): unknown {
  switch (scalar) {
    case 'bytes':
      return v instanceof Uint8Array ? Buffer.from(v).toString('base64') : '';
    case 'int64':
    case 'uint64':
      return toNumber(v);
    default:
      return v;
  }
}

function zeroScalar(scalar: string): unknown {
  return scalar === 'string' ? '' : scalar === 'bool' ? false : 0;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}
