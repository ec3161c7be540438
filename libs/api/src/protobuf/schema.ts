import protobuf from 'protobufjs';

import { appsV1 } from './schema/apps-v1.js';
import { authenticationV1 } from './schema/authentication-v1.js';
import { authorizationV1 } from './schema/authorization-v1.js';
import { batchV1 } from './schema/batch-v1.js';
import { coordinationV1 } from './schema/coordination-v1.js';
import { coreV1 } from './schema/core-v1.js';
import { discoveryV1 } from './schema/discovery-v1.js';
import { eventsV1 } from './schema/events-v1.js';
import { metaV1 } from './schema/meta-v1.js';
import { networkingV1 } from './schema/networking-v1.js';
import { type SchemaPackage } from './schema/package.js';
import { policyV1 } from './schema/policy-v1.js';
import { rbacV1 } from './schema/rbac-v1.js';
import { schedulingV1 } from './schema/scheduling-v1.js';
import { storageV1 } from './schema/storage-v1.js';

/** Types whose JSON form is not their protobuf message (see ./special-types.ts). */
export const SPECIAL_TYPES = {
  Time: 'k8s.io.apimachinery.pkg.apis.meta.v1.Time',
  MicroTime: 'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime',
  Duration: 'k8s.io.apimachinery.pkg.apis.meta.v1.Duration',
  FieldsV1: 'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1',
  Quantity: 'k8s.io.apimachinery.pkg.api.resource.Quantity',
  IntOrString: 'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  RawExtension: 'k8s.io.apimachinery.pkg.runtime.RawExtension',
} as const;
export type SpecialType = keyof typeof SPECIAL_TYPES;

/** The messages behind the special types, and the envelope, in the same notation. */
const specials: SchemaPackage[] = [
  {
    name: 'k8s.io.apimachinery.pkg.apis.meta.v1',
    messages: {
      // Both times travel as a google.protobuf.Timestamp; an empty message is Go's zero time.
      Time: '1 seconds int64\n2 nanos int32',
      MicroTime: '1 seconds int64\n2 nanos int32',
      Duration: '1 duration int64',
      FieldsV1: '1 Raw bytes',
    },
  },
  { name: 'k8s.io.apimachinery.pkg.api.resource', messages: { Quantity: '1 string string' } },
  {
    name: 'k8s.io.apimachinery.pkg.util.intstr',
    messages: { IntOrString: '1 type int64\n2 intVal int32\n3 strVal string' },
  },
  {
    name: 'k8s.io.apimachinery.pkg.runtime',
    messages: {
      RawExtension: '1 raw bytes',
      TypeMeta: '1 apiVersion string\n2 kind string',
      Unknown: '1 typeMeta TypeMeta\n2 raw bytes\n3 contentEncoding string\n4 contentType string',
    },
  },
];

const packages: SchemaPackage[] = [
  metaV1,
  coreV1,
  appsV1,
  batchV1,
  rbacV1,
  networkingV1,
  coordinationV1,
  discoveryV1,
  eventsV1,
  schedulingV1,
  storageV1,
  policyV1,
  authenticationV1,
  authorizationV1,
];

/** Short package names usable in type references. */
const ALIASES: Record<string, string> = {
  core: 'k8s.io.api.core.v1',
  meta: 'k8s.io.apimachinery.pkg.apis.meta.v1',
};

/** The API group of each package, for finding the message of an apiVersion + kind. */
const GROUP_PACKAGES: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'batch/v1': 'k8s.io.api.batch.v1',
  'rbac.authorization.k8s.io/v1': 'k8s.io.api.rbac.v1',
  'networking.k8s.io/v1': 'k8s.io.api.networking.v1',
  'coordination.k8s.io/v1': 'k8s.io.api.coordination.v1',
  'discovery.k8s.io/v1': 'k8s.io.api.discovery.v1',
  'events.k8s.io/v1': 'k8s.io.api.events.v1',
  'scheduling.k8s.io/v1': 'k8s.io.api.scheduling.v1',
  'storage.k8s.io/v1': 'k8s.io.api.storage.v1',
  'policy/v1': 'k8s.io.api.policy.v1',
  'authentication.k8s.io/v1': 'k8s.io.api.authentication.v1',
  'authorization.k8s.io/v1': 'k8s.io.api.authorization.v1',
};

const TEMPLATES = new Set(['PodTemplateSpec', 'JobTemplateSpec', 'PersistentVolumeClaimTemplate']);

const SCALARS = new Set(['string', 'int32', 'int64', 'uint32', 'uint64', 'bool', 'bytes', 'double', 'float']);

export type FieldValueType =
  | { kind: 'scalar'; scalar: string }
  | { kind: 'special'; special: SpecialType }
  | { kind: 'message'; message: string };

/** One field with what the wire format and Go's JSON encoding need to know about it. */
export interface FieldShape {
  number: number;
  /** The JSON name, also the protobufjs field name. */
  name: string;
  value: FieldValueType;
  repeated: boolean;
  map: boolean;
  pointer: boolean;
  /** No `omitempty`: Go renders the zero value. */
  always: boolean;
  inline: boolean;
}

export interface MessageShape {
  fullName: string;
  fields: FieldShape[];
  type: protobuf.Type;
}

/** The schema: protobufjs types plus the Go JSON shapes of their fields. */
export class ProtobufSchema {
  private readonly messages = new Map<string, MessageShape>();
  readonly root = new protobuf.Root();

  constructor(sources: SchemaPackage[]) {
    const pending: [MessageShape, protobuf.Type][] = [];
    for (const pkg of sources) {
      const ns = this.root.define(pkg.name);
      for (const [name, text] of Object.entries(pkg.messages)) {
        const fullName = `${pkg.name}.${name}`;
        if (this.messages.has(fullName)) throw new Error(`protobuf schema: ${fullName} defined twice`);
        const type = new protobuf.Type(name);
        ns.add(type);
        const shape: MessageShape = { fullName, fields: parseFields(pkg.name, fullName, text), type };
        this.messages.set(fullName, shape);
        pending.push([shape, type]);
      }
    }
    for (const [shape, type] of pending) {
      for (const f of shape.fields) {
        const wireType = this.wireType(shape.fullName, f.value);
        type.add(
          f.map
            ? new protobuf.MapField(f.name, f.number, 'string', wireType)
            : new protobuf.Field(f.name, f.number, wireType, f.repeated ? 'repeated' : 'optional'),
        );
      }
    }
    this.root.resolveAll();
  }

  message(fullName: string): MessageShape {
    const m = this.messages.get(fullName);
    if (!m) throw new Error(`protobuf schema: no message ${fullName}`);
    return m;
  }

  /** The top-level message for an object of this apiVersion and kind, if the schema has one. */
  messageForKind(apiVersion: string, kind: string): MessageShape | undefined {
    const pkg = GROUP_PACKAGES[apiVersion];
    const m = pkg && /^[A-Z]\w*$/.test(kind) ? this.messages.get(`${pkg}.${kind}`) : undefined;
    // Kinds are the objects (ObjectMeta as field 1) other than the templates nested in them.
    return m?.fields[0]?.name === 'metadata' && !TEMPLATES.has(kind) ? m : undefined;
  }

  /** Every apiVersion/kind the schema decodes, for error messages and tests. */
  kinds(): { apiVersion: string; kind: string }[] {
    const out: { apiVersion: string; kind: string }[] = [];
    for (const [apiVersion, pkg] of Object.entries(GROUP_PACKAGES))
      for (const m of this.messages.values())
        if (m.fullName.startsWith(`${pkg}.`)) {
          const kind = m.fullName.slice(pkg.length + 1);
          if (this.messageForKind(apiVersion, kind)) out.push({ apiVersion, kind });
        }
    return out;
  }

  private wireType(owner: string, v: FieldValueType): string {
    if (v.kind === 'scalar') return v.scalar;
    const target = v.kind === 'special' ? SPECIAL_TYPES[v.special] : v.message;
    if (!this.messages.has(target)) throw new Error(`protobuf schema: ${owner} refers to unknown ${target}`);
    return `.${target}`;
  }
}

function parseFields(pkg: string, owner: string, text: string): FieldShape[] {
  const fields: FieldShape[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const [num, name, typeText, ...flags] = words;
    const number = Number(num);
    if (!Number.isInteger(number) || number < 1 || !name || !typeText)
      throw new Error(`protobuf schema: ${owner}: cannot read "${line.trim()}"`);
    for (const flag of flags)
      if (flag !== 'always' && flag !== 'inline')
        throw new Error(`protobuf schema: ${owner}.${name}: unknown flag ${flag}`);
    let t = typeText;
    const repeated = t.startsWith('[]');
    if (repeated) t = t.slice(2);
    const pointer = t.startsWith('*');
    if (pointer) t = t.slice(1);
    const mapMatch = /^map<string,(.+)>$/.exec(t);
    if (mapMatch) t = mapMatch[1];
    fields.push({
      number,
      name,
      value: valueType(pkg, t),
      repeated,
      map: mapMatch !== null,
      pointer,
      always: flags.includes('always'),
      inline: flags.includes('inline'),
    });
  }
  return fields;
}

function valueType(pkg: string, t: string): FieldValueType {
  if (SCALARS.has(t)) return { kind: 'scalar', scalar: t };
  if (t in SPECIAL_TYPES) return { kind: 'special', special: t as SpecialType };
  const dot = t.lastIndexOf('.');
  if (dot < 0) return { kind: 'message', message: `${pkg}.${t}` };
  const prefix = t.slice(0, dot);
  return { kind: 'message', message: `${ALIASES[prefix] ?? prefix}.${t.slice(dot + 1)}` };
}

let schema: ProtobufSchema | undefined;

/** The Kubernetes API schema, built once on first use. */
export function kubernetesSchema(): ProtobufSchema {
  schema ??= new ProtobufSchema([...specials, ...packages]);
  return schema;
}
