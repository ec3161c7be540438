import { createHash } from 'node:crypto';

import { type ResourceRegistry } from '../registry/resource-registry.js';
import {
  createOnlyPaths,
  groupVersionPath,
  type KindAddress,
  kindPaths,
  type Operation,
  type Parameter,
  type PathItem,
} from './operations.js';
import { SCHEMA_REF_PREFIX, type Schema, type SchemaCatalog } from './schema-derivation.js';

/** How clients authenticate, the same in v2 and v3 (upstream's BearerToken scheme). */
const BEARER_TOKEN = {
  type: 'apiKey',
  description: 'Bearer Token authentication',
  name: 'authorization',
  in: 'header',
};

/** A document ready to send: its JSON and the hash its immutable URL carries. */
export interface SerializedDocument {
  json: string;
  hash: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const V2_REF_PREFIX = '#/definitions/';

/**
 * The OpenAPI documents of the kinds a registry serves: the v3 root and one v3 document per
 * group-version (what kubectl ≥1.29 reads), and the Swagger 2.0 document. Built on first
 * request and kept: the registry does not change while the server runs.
 */
export class OpenApiDocuments {
  private readonly v3Docs = new Map<string, SerializedDocument>();
  private v2Doc: SerializedDocument | undefined;

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly catalog: SchemaCatalog,
    private readonly version: string,
    /** Kinds served outside the registry that only take create (the access reviews). */
    private readonly createOnly: KindAddress[] = [],
  ) {}

  /** Every served group-version's path in the root (`api/v1`, `apis/apps/v1`). */
  groupVersions(): string[] {
    return [...new Set([...this.registry.types, ...this.createOnly].map(groupVersionPath))];
  }

  /** `GET /openapi/v3`: each group-version with the hashed URL of its document. */
  root(): { paths: Record<string, { serverRelativeURL: string }> } {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of this.groupVersions())
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${(this.v3(gv) as SerializedDocument).hash}` };
    return { paths };
  }

  /** The v3 document of a group-version path, or undefined when none is served there. */
  v3(gvPath: string): SerializedDocument | undefined {
    const known = this.v3Docs.get(gvPath);
    if (known) return known;
    const items = this.pathItems((t) => groupVersionPath(t) === gvPath);
    if (items.length === 0) return undefined;
    const paths: Record<string, unknown> = {};
    for (const item of items) paths[item.path] = v3PathItem(item);
    const schemas = Object.fromEntries(
      [...this.catalog.closure(referenced(items))].sort(([a], [b]) => a.localeCompare(b)),
    );
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: this.version },
      paths,
      components: {
        schemas,
        securitySchemes: { BearerToken: BEARER_TOKEN },
      },
      security: [{ BearerToken: [] }],
    };
    const serialized = serialize(doc);
    this.v3Docs.set(gvPath, serialized);
    return serialized;
  }

  /** `GET /openapi/v2`: every served kind in one Swagger 2.0 document. */
  v2(): SerializedDocument {
    if (this.v2Doc) return this.v2Doc;
    const items = this.pathItems(() => true);
    const paths: Record<string, unknown> = {};
    for (const item of items) paths[item.path] = v2PathItem(item);
    const definitions: Record<string, unknown> = {};
    for (const [name, schema] of [...this.catalog.closure(referenced(items))].sort(([a], [b]) =>
      a.localeCompare(b),
    ))
      definitions[name] = toV2Schema(schema);
    this.v2Doc = serialize({
      swagger: '2.0',
      info: { title: 'Kubernetes', version: this.version },
      paths,
      definitions,
      securityDefinitions: { BearerToken: BEARER_TOKEN },
      security: [{ BearerToken: [] }],
    });
    return this.v2Doc;
  }

  /** The paths of the served kinds that `which` picks. */
  private pathItems(which: (t: KindAddress) => boolean): PathItem[] {
    const definition = (group: string, version: string, kind: string) => {
      const def = this.catalog.definitionOf(group, version, kind);
      if (!def) throw new Error(`kubernetes-models has no model of ${group}/${version}/${kind}`);
      return def;
    };
    return [
      ...this.registry.types.filter(which).flatMap((t) => kindPaths(t, definition)),
      ...this.createOnly.filter(which).flatMap((t) => createOnlyPaths(t, definition)),
    ];
  }
}

function serialize(doc: unknown): SerializedDocument {
  const json = JSON.stringify(doc);
  // Upstream: the SHA-512 of the document, upper-case hex.
  return { json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() };
}

/** Definitions the operations name (bodies and responses) plus the errors every operation can return. */
function referenced(items: PathItem[]): string[] {
  const defs = new Set<string>([`${META}.Status`]);
  for (const item of items)
    for (const op of item.operations) {
      if (op.body) defs.add(op.body);
      for (const r of Object.values(op.responses)) if (r.definition !== 'string') defs.add(r.definition);
    }
  return [...defs];
}

function parameterV3(p: Parameter): Schema {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true },
  };
}

function contentOf(definition: string): Schema {
  if (definition === 'string') return { 'text/plain': { schema: { type: 'string' } } };
  const schema = { $ref: `${SCHEMA_REF_PREFIX}${definition}` };
  return { 'application/json': { schema }, 'application/yaml': { schema } };
}

function extensions(op: Operation): Schema {
  return { 'x-kubernetes-action': op.action, 'x-kubernetes-group-version-kind': op.gvk };
}

function v3PathItem(item: PathItem): Schema {
  const out: Schema = { parameters: item.parameters.map(parameterV3) };
  for (const op of item.operations) {
    out[op.method] = {
      description: op.description,
      operationId: op.operationId,
      ...(op.parameters.length ? { parameters: op.parameters.map(parameterV3) } : {}),
      ...(op.body
        ? {
            requestBody: {
              content: { 'application/json': { schema: { $ref: `${SCHEMA_REF_PREFIX}${op.body}` } } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([code, r]) => [
          code,
          { description: r.description, content: contentOf(r.definition) },
        ]),
      ),
      tags: [op.tag],
      ...extensions(op),
    };
  }
  return out;
}

function parameterV2(p: Parameter): Schema {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    type: p.type,
    uniqueItems: true,
  };
}

function v2PathItem(item: PathItem): Schema {
  const out: Schema = { parameters: item.parameters.map(parameterV2) };
  for (const op of item.operations) {
    const parameters = op.parameters.map(parameterV2);
    if (op.body)
      parameters.unshift({
        name: 'body',
        in: 'body',
        required: true,
        schema: { $ref: `${V2_REF_PREFIX}${op.body}` },
      });
    out[op.method] = {
      description: op.description,
      operationId: op.operationId,
      consumes:
        op.method === 'patch'
          ? [
              'application/json-patch+json',
              'application/merge-patch+json',
              'application/strategic-merge-patch+json',
              'application/apply-patch+yaml',
            ]
          : ['*/*'],
      produces: ['application/json', 'application/yaml'],
      schemes: ['https'],
      ...(parameters.length ? { parameters } : {}),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([code, r]) => [
          code,
          {
            description: r.description,
            schema:
              r.definition === 'string' ? { type: 'string' } : { $ref: `${V2_REF_PREFIX}${r.definition}` },
          },
        ]),
      ),
      tags: [op.tag],
      ...extensions(op),
    };
  }
  return out;
}

/**
 * A v3 component schema in Swagger 2.0's words: references under `#/definitions/`, and the two
 * `oneOf` definitions (IntOrString, Quantity) as the strings upstream's v2 document calls them.
 */
export function toV2Schema(schema: Schema): Schema {
  if (Array.isArray(schema.oneOf)) {
    const rest: Schema = { ...schema, type: 'string' };
    delete rest.oneOf;
    return rest;
  }
  return rewriteRefs(schema) as Schema;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out: Schema = {};
  for (const [k, v] of Object.entries(value))
    out[k] =
      k === '$ref' && typeof v === 'string'
        ? `${V2_REF_PREFIX}${v.slice(SCHEMA_REF_PREFIX.length)}`
        : rewriteRefs(v);
  return out;
}
