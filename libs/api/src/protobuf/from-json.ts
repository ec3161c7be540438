import { type FieldShape, type MessageShape, type ProtobufSchema } from './schema.js';
import { type Decoded, specialFromJson, specialZero } from './special-types.js';

export interface FromJsonOptions {
  /**
   * Fill what gogo always writes: every non-pointer field, zero values and empty structs included.
   * This is how Go clients encode, and what the decoder has to undo.
   */
  goZeros?: boolean;
}

/** A protobufjs plain object for a JSON object of this message (the inverse of messageToJson). */
export function messageFromJson(
  schema: ProtobufSchema,
  shape: MessageShape,
  json: Record<string, unknown>,
  options: FromJsonOptions = {},
): Decoded {
  const out: Decoded = {};
  for (const f of shape.fields) {
    if (f.inline) {
      if (f.value.kind !== 'message') continue;
      out[f.name] = messageFromJson(schema, schema.message(f.value.message), json, options);
      continue;
    }
    const v = json[f.name];
    if (v === undefined || v === null) {
      if (options.goZeros && !f.pointer && !f.repeated && !f.map) out[f.name] = goZero(schema, f, options);
      continue;
    }
    if (f.map) {
      out[f.name] = Object.fromEntries(
        Object.entries(v as Decoded).map(([k, x]) => [k, valueFromJson(schema, f, x, options)]),
      );
    } else if (f.repeated) {
      out[f.name] = (v as unknown[]).map((x) => valueFromJson(schema, f, x, options));
    } else out[f.name] = valueFromJson(schema, f, v, options);
  }
  return out;
}

function valueFromJson(schema: ProtobufSchema, f: FieldShape, v: unknown, options: FromJsonOptions): unknown {
  switch (f.value.kind) {
    case 'scalar':
      return f.value.scalar === 'bytes' ? Buffer.from(String(v), 'base64') : v;
    case 'special':
      return specialFromJson(f.value.special, v);
    case 'message':
      return messageFromJson(schema, schema.message(f.value.message), v as Record<string, unknown>, options);
  }
}

function goZero(schema: ProtobufSchema, f: FieldShape, options: FromJsonOptions): unknown {
  switch (f.value.kind) {
    case 'scalar':
      return f.value.scalar === 'string'
        ? ''
        : f.value.scalar === 'bool'
          ? false
          : f.value.scalar === 'bytes'
            ? Buffer.alloc(0)
            : 0;
    case 'special':
      return specialFromJson(f.value.special, specialZero(f.value.special));
    case 'message':
      return messageFromJson(schema, schema.message(f.value.message), {}, options);
  }
}
