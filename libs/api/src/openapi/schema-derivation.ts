import { ClientNodeFormats } from './client-node-formats.js';
import { type DtsProperty, type DtsType } from './dts-model.js';
import { type ModelFile, ModelPackages } from './model-packages.js';

/** One OpenAPI v3 schema object (upstream's shape: `$ref` siblings carry descriptions). */
export type Schema = { [key: string]: unknown };

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/** Upstream's TypeMeta descriptions; kubernetes-models types these two fields as literals, without text. */
const TYPE_META: Record<string, string> = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const TIMES = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
]);

/** Kinds the operations of every document refer to, besides the served kinds and their lists. */
const SHARED_KINDS: [string, string, string][] = [
  ['autoscaling', 'v1', 'Scale'],
  ['', 'v1', 'Binding'],
  ['policy', 'v1', 'Eviction'],
];
/** Apimachinery definitions the operations refer to. */
const SHARED_META = ['Status', 'DeleteOptions', 'Patch', 'WatchEvent'];

export function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/**
 * Upstream's OpenAPI component schemas, derived on demand from kubernetes-models' generated
 * declarations (themselves generated from upstream's OpenAPI document): structure,
 * descriptions, optionality and enums come from there, number formats from client-node.
 * A kind's schema (and everything it references) is derived the first time it is asked for.
 *
 * Why kubernetes-models and not client-node alone: its declarations keep every description
 * (what `kubectl explain` prints), which fields are required, and the enums, and its compiled
 * validators (used for 422s) are generated from the same document, so the schemas served and
 * the checks made agree. client-node's `attributeTypeMap` adds only what those declarations
 * lose: `integer` vs `number` and the formats.
 */
export class SchemaCatalog {
  private readonly packages = new ModelPackages();
  private readonly formats = new ClientNodeFormats();
  private readonly schemas = new Map<string, Schema>();
  private readonly kinds = new Map<string, string | undefined>();
  private readonly gvks = new Map<string, { group: string; version: string; kind: string }[]>();

  constructor() {
    for (const [group, version, kind] of SHARED_KINDS) this.definitionOf(group, version, kind);
    for (const kind of SHARED_META) this.derive(this.packages.apimachineryFile(`apis/meta/v1/${kind}`));
  }

  /**
   * The definition of a kind (`io.k8s.api.apps.v1.Deployment`), derived with everything it
   * references, tagged with its group-version-kind; undefined when kubernetes-models has none.
   */
  definitionOf(group: string, version: string, kind: string): string | undefined {
    const key = gvkKey(group, version, kind);
    if (this.kinds.has(key)) return this.kinds.get(key);
    const file = this.packages.kindFile(group, version, kind);
    this.kinds.set(key, file?.definition);
    if (!file) return undefined;
    const tagged = this.gvks.get(file.definition) ?? [];
    tagged.push({ group, version, kind });
    this.gvks.set(file.definition, tagged);
    const known = this.schemas.get(file.definition);
    if (known) known['x-kubernetes-group-version-kind'] = tagged;
    else this.derive(file);
    if (!kind.endsWith('List')) this.definitionOf(group, version, `${kind}List`);
    return file.definition;
  }

  schema(definition: string): Schema | undefined {
    return this.schemas.get(definition);
  }

  /** The schemas of `roots` and of every definition they reference, transitively. */
  closure(roots: string[]): Map<string, Schema> {
    const out = new Map<string, Schema>();
    const stack = [...roots];
    while (stack.length) {
      const def = stack.pop() as string;
      if (out.has(def)) continue;
      const schema = this.schemas.get(def);
      if (!schema) throw new Error(`no schema for ${def}`);
      out.set(def, schema);
      for (const ref of refsIn(schema)) if (!out.has(ref)) stack.push(ref);
    }
    return out;
  }

  /** Converts `file` and every definition it references, breadth first. */
  private derive(first: ModelFile): void {
    if (this.schemas.has(first.definition)) return;
    const queue = [first];
    this.schemas.set(first.definition, {}); // claimed; filled when dequeued
    for (let file = queue.shift(); file; file = queue.shift()) {
      const from = file;
      const schema = toSchema(from, (ref) => {
        const target = this.packages.imported(from, ref.from);
        if (!this.schemas.has(target.definition)) {
          this.schemas.set(target.definition, {});
          queue.push(target);
        }
        return target.definition;
      });
      const gvk = this.gvks.get(from.definition);
      if (gvk) schema['x-kubernetes-group-version-kind'] = gvk;
      addFormats(schema, this.formats.of(from.definition));
      this.schemas.set(from.definition, schema);
    }
  }
}

let shared: SchemaCatalog | undefined;

/** The process's catalog: derived once, lazily, shared by the OpenAPI documents and field validation. */
export function schemaCatalog(): SchemaCatalog {
  shared ??= new SchemaCatalog();
  return shared;
}

/** Definitions a schema refers to. Schemas nest a few levels (properties, items, maps), never deeply. */
export function refsIn(schema: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [schema];
  while (stack.length) {
    const s = stack.pop();
    if (Array.isArray(s)) stack.push(...s);
    else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k === '$ref' && typeof v === 'string') out.push(v.slice(SCHEMA_REF_PREFIX.length));
        else if (typeof v === 'object') stack.push(v);
      }
    }
  }
  return out;
}

function isObjectSchema(s: Schema): boolean {
  return typeof s.properties === 'object' && s.properties !== null;
}

/** One model file as a component schema; `follow` names (and queues) the definition a reference points at. */
function toSchema(file: ModelFile, follow: (ref: { name: string; from: string }) => string): Schema {
  const { model, definition } = file;
  const described = (s: Schema, description?: string): Schema =>
    description === undefined ? s : { description, ...s };
  if (definition === INT_OR_STRING)
    return described(
      {
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
        'x-kubernetes-int-or-string': true,
      },
      model.description,
    );
  if (definition === QUANTITY)
    return described({ oneOf: [{ type: 'string' }, { type: 'number' }] }, model.description);
  if (TIMES.has(definition)) return described({ type: 'string', format: 'date-time' }, model.description);
  if (model.kind === 'alias') return described(typeSchema(model.type, follow), model.description);
  // An interface without properties is upstream's free-form JSON (RawExtension, FieldsV1).
  if (model.properties.length === 0)
    return described({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, model.description);
  return described(objectSchema(model.properties, follow), model.description);
}

function objectSchema(props: DtsProperty[], follow: (ref: { name: string; from: string }) => string): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const p of props) {
    const typeMeta = isTypeMetaLiteral(p);
    const s = typeMeta ? { type: 'string' } : typeSchema(p.type, follow);
    const description = typeMeta ? TYPE_META[p.name] : p.description;
    properties[p.name] = description === undefined ? s : { description, ...s };
    if (!p.optional && !typeMeta) required.push(p.name);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** `apiVersion: "v1"` and `kind: "Pod"` of a top-level kind: any value passes upstream's schema. */
function isTypeMetaLiteral(p: DtsProperty): boolean {
  return (
    (p.name === 'apiVersion' || p.name === 'kind') && p.type.kind === 'enum' && p.type.values.length === 1
  );
}

function typeSchema(t: DtsType, follow: (ref: { name: string; from: string }) => string): Schema {
  switch (t.kind) {
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: 'integer' };
    case 'enum':
      return { type: 'string', enum: t.values };
    case 'array':
      return { type: 'array', items: typeSchema(t.items, follow) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(t.values, follow) };
    case 'object':
      return objectSchema(t.properties, follow);
    case 'union':
      return { oneOf: t.of.map((type) => ({ type })) };
    case 'ref':
      return { $ref: `${SCHEMA_REF_PREFIX}${follow(t)}` };
  }
}

/** Upstream's number formats (and `byte`), where client-node knows the property. */
function addFormats(schema: Schema, formats: Map<string, string> | undefined): void {
  if (!formats || !isObjectSchema(schema)) return;
  for (const [name, prop] of Object.entries(schema.properties as Record<string, Schema>)) {
    const format = formats.get(name);
    const target =
      prop.type === 'array'
        ? (prop.items as Schema)
        : prop.type === 'object' && prop.additionalProperties
          ? (prop.additionalProperties as Schema)
          : prop;
    if (target.type === 'integer' && (format === 'int32' || format === 'int64')) target.format = format;
    else if (target.type === 'integer' && format === 'double') {
      target.type = 'number';
      target.format = 'double';
    } else if (target.type === 'string' && format === 'byte') target.format = 'byte';
  }
}
