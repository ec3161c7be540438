import { StatusError } from '../errors/index.js';
import {
  SCHEMA_REF_PREFIX,
  type Schema,
  type SchemaCatalog,
  schemaCatalog,
} from '../openapi/schema-derivation.js';

/** The `fieldValidation` query parameter of create, update and patch (upstream ≥1.27 defaults to Warn). */
export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

const MODES: FieldValidationMode[] = ['Ignore', 'Warn', 'Strict'];

export function parseFieldValidation(value: string | undefined): FieldValidationMode {
  if (value === undefined || value === '') return 'Warn';
  if ((MODES as string[]).includes(value)) return value as FieldValidationMode;
  throw StatusError.badRequest(
    `fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: ${MODES.map((m) => `"${m}"`).join(', ')}`,
  );
}

/**
 * Removes from `value` every field the schema of `definition` does not declare, and returns
 * their paths (`spec.containers[0].foo`) in document order. Typed decoding drops such fields
 * upstream whatever the mode, so they are never stored. Free-form parts
 * (`x-kubernetes-preserve-unknown-fields`) and values of the wrong type (schema validation's
 * business) are left alone. The walk follows the schema, so its depth is the schema's, not the
 * input's, and it uses its own stack.
 */
export function pruneUnknownFields(catalog: SchemaCatalog, definition: string, value: unknown): string[] {
  if (!catalog.schema(definition)) throw new Error(`no schema derived for ${definition}`);
  const unknown: string[] = [];
  // An entry is a value to walk with its schema, or (schema undefined, value null) an unknown
  // field found there, queued in its place so that paths come out in document order.
  type Entry = [unknown, Schema | undefined, string];
  const stack: Entry[] = [[value, { $ref: `${SCHEMA_REF_PREFIX}${definition}` }, '']];
  while (stack.length) {
    const [v, s, path] = stack.pop() as Entry;
    if (s === undefined) {
      unknown.push(path);
      continue;
    }
    const schema = resolve(catalog, s);
    if (
      !schema ||
      schema['x-kubernetes-preserve-unknown-fields'] === true ||
      v === null ||
      typeof v !== 'object'
    )
      continue;
    const next: Entry[] = [];
    if (Array.isArray(v)) {
      if (schema.type === 'array')
        v.forEach((item, i) => next.push([item, schema.items as Schema, `${path}[${i}]`]));
    } else if (schema.type === 'object') {
      const record = v as Record<string, unknown>;
      const properties = schema.properties as Record<string, Schema> | undefined;
      const additional = schema.additionalProperties as Schema | undefined;
      for (const key of Object.keys(record)) {
        const at = path ? `${path}.${key}` : key;
        if (properties && Object.hasOwn(properties, key)) next.push([record[key], properties[key], at]);
        else if (additional) next.push([record[key], additional, at]);
        else if (properties) {
          next.push([null, undefined, at]);
          delete record[key];
        }
      }
    }
    // Reversed onto the stack so that fields come out in document order.
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
  return unknown;
}

function resolve(catalog: SchemaCatalog, s: Schema | undefined): Schema | undefined {
  // A property's `$ref` sits beside its description; one hop reaches the definition.
  if (s && typeof s.$ref === 'string') return catalog.schema(s.$ref.slice(SCHEMA_REF_PREFIX.length));
  return s;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * One write's field validation: the mode, the duplicate keys found in its body, and the unknown
 * fields its object had. Strict fails the request (400, upstream's `strict decoding error`);
 * Warn reports each as a `Warning` header; Ignore says nothing. Unknown fields are dropped in
 * every mode.
 */
export class FieldValidation {
  /** A set: a hostile body may carry hundreds of thousands of unknown keys, checked once each. */
  private readonly unknown = new Set<string>();

  constructor(
    readonly mode: FieldValidationMode,
    private readonly duplicates: string[] = [],
    private readonly catalog: () => SchemaCatalog = schemaCatalog,
  ) {}

  /**
   * Drops the fields of `obj` (of kind `gvk`) its schema does not know; under Strict, fails if
   * there were any, or duplicate keys in the body. `decoding` says the body was the object
   * itself (create, update), whose failure upstream words as a decoding one.
   */
  check(gvk: GroupVersionKind, obj: unknown, decoding = true): void {
    const definition = this.catalog().definitionOf(gvk.group, gvk.version, gvk.kind);
    // A write may be checked more than once (an apply checks its configuration, then creates
    // from it; a patch retried after a conflict): report each field once, from whichever check.
    for (const path of definition ? pruneUnknownFields(this.catalog(), definition, obj) : [])
      this.unknown.add(path);
    if (this.mode !== 'Strict') return;
    const problems = this.problems();
    if (problems.length === 0) return;
    const strict = `strict decoding error: ${problems.join(', ')}`;
    throw StatusError.badRequest(
      decoding
        ? `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: ${strict}`
        : strict,
    );
  }

  /** What Warn reports, one `Warning` header each. */
  warnings(): string[] {
    return this.mode === 'Warn' ? this.problems() : [];
  }

  private problems(): string[] {
    return [
      ...[...this.unknown].map((f) => `unknown field ${JSON.stringify(f)}`),
      ...this.duplicates.map((f) => `duplicate field ${JSON.stringify(f)}`),
    ];
  }
}
