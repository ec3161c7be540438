import { apiVersionOf, type ResourceType } from '../registry/resource-type.js';

/** A query or path parameter, as both OpenAPI versions describe it. */
export interface Parameter {
  name: string;
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

/** One operation of one path, before it is written out as OpenAPI v3 or Swagger 2.0. */
export interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  /** Upstream's `x-kubernetes-action`. */
  action: string;
  /** The group-version the path belongs to, in upstream's words (`apps_v1`). */
  tag: string;
  operationId: string;
  description: string;
  gvk: { group: string; version: string; kind: string };
  parameters: Parameter[];
  /** The body's definition (`patch` bodies are `meta.v1.Patch`). */
  body?: string;
  /** Status code → the definition returned, or `string` for text (logs). */
  responses: Record<string, { description: string; definition: string | 'string' }>;
}

export interface PathItem {
  path: string;
  parameters: Parameter[];
  operations: Operation[];
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const q = (name: string, type: Parameter['type'], description: string): Parameter => ({
  name,
  in: 'query',
  type,
  description,
});

const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed.");
const DRY_RUN = q(
  'dryRun',
  'string',
  'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
);
const FIELD_MANAGER = q(
  'fieldManager',
  'string',
  'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
);
/** kubectl ≥1.29 looks for this parameter on a kind's PATCH operation, then leaves field validation to the server. */
const FIELD_VALIDATION = q(
  'fieldValidation',
  'string',
  'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
);
const FORCE = q(
  'force',
  'boolean',
  'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
);
const GRACE = q(
  'gracePeriodSeconds',
  'integer',
  'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately.',
);
const PROPAGATION = q(
  'propagationPolicy',
  'string',
  "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
);
const LIST_PARAMS: Parameter[] = [
  q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  q('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  q(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  ),
  q(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  ),
  q('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  q(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  ),
  q(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  ),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
];

const path = (name: string, description: string): Parameter => ({
  name,
  in: 'path',
  type: 'string',
  description,
  required: true,
});
const NAMESPACE = path('namespace', 'object name and auth scope, such as for teams and projects');

/** `rbac.authorization.k8s.io` → `RbacAuthorization`, `` → `Core`: upstream's operationId and tag words. */
function groupWord(group: string): string {
  const words = (group || 'core').replace(/\.k8s\.io$/, '').split('.');
  return words.map((w) => `${w[0].toUpperCase()}${w.slice(1)}`).join('');
}

export function tagOf(group: string, version: string): string {
  const g = groupWord(group);
  return `${g[0].toLowerCase()}${g.slice(1)}_${version}`;
}

/** How a kind is addressed: what its paths and operation names are made of. */
export type KindAddress = Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'>;
type Definition = (group: string, version: string, kind: string) => string;

const ok = (d: string) => ({ '200': { description: 'OK', definition: d } });
const written = (d: string) => ({ ...ok(d), '201': { description: 'Created', definition: d } });
const WRITES = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];

/** Where a kind's operations live, and the words and tag upstream names them with. */
function addressOf(t: KindAddress) {
  const prefix = t.group ? `/apis/${t.group}/${t.version}` : '/api/v1';
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const tag = tagOf(t.group, t.version);
  return {
    prefix,
    base: t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`,
    scope: t.namespaced ? [NAMESPACE] : [],
    word: `${groupWord(t.group)}${t.version[0].toUpperCase()}${t.version.slice(1)}`,
    ns: t.namespaced ? 'Namespaced' : '',
    op: (o: Omit<Operation, 'gvk' | 'tag'> & { gvk?: Operation['gvk'] }): Operation => ({ gvk, tag, ...o }),
    gvk,
  };
}

/** The POST that creates an object of `t` in its collection. */
function createOperation(t: KindAddress, definition: Definition): Operation {
  const { word, ns, op } = addressOf(t);
  const self = definition(t.group, t.version, t.kind);
  return op({
    method: 'post',
    action: 'post',
    operationId: `create${word}${ns}${t.kind}`,
    description: `create a ${t.kind}`,
    parameters: WRITES,
    body: self,
    responses: { ...written(self), '202': { description: 'Accepted', definition: self } },
  });
}

/** The one operation of a create-only kind (the access reviews): a POST to its collection. */
export function createOnlyPaths(t: KindAddress, definition: Definition): PathItem[] {
  const { base, scope } = addressOf(t);
  return [{ path: base, parameters: [...scope, PRETTY], operations: [createOperation(t, definition)] }];
}

/** The paths and operations of one served kind, as upstream's apiserver publishes them. */
export function kindPaths(t: ResourceType, definition: Definition): PathItem[] {
  const { prefix, base, scope, word, ns, op, gvk } = addressOf(t);
  const self = definition(t.group, t.version, t.kind);
  const list = definition(t.group, t.version, `${t.kind}List`);
  const status = `${META}.Status`;
  const name = path('name', `name of the ${t.kind}`);
  const writes = WRITES;

  const items: PathItem[] = [
    {
      path: base,
      parameters: [...scope, PRETTY],
      operations: [
        op({
          method: 'get',
          action: 'list',
          operationId: `list${word}${ns}${t.kind}`,
          description: `list or watch objects of kind ${t.kind}`,
          parameters: LIST_PARAMS,
          responses: ok(list),
        }),
        createOperation(t, definition),
        op({
          method: 'delete',
          action: 'deletecollection',
          operationId: `deletecollection${word}${ns}${t.kind}`,
          description: `delete collection of ${t.kind}`,
          parameters: [DRY_RUN, GRACE, PROPAGATION, ...LIST_PARAMS.filter((p) => p.name !== 'watch')],
          body: `${META}.DeleteOptions`,
          responses: ok(status),
        }),
      ],
    },
    {
      path: `${base}/{name}`,
      parameters: [name, ...scope, PRETTY],
      operations: [
        op({
          method: 'get',
          action: 'get',
          operationId: `read${word}${ns}${t.kind}`,
          description: `read the specified ${t.kind}`,
          parameters: [],
          responses: ok(self),
        }),
        op({
          method: 'put',
          action: 'put',
          operationId: `replace${word}${ns}${t.kind}`,
          description: `replace the specified ${t.kind}`,
          parameters: writes,
          body: self,
          responses: written(self),
        }),
        op({
          method: 'patch',
          action: 'patch',
          operationId: `patch${word}${ns}${t.kind}`,
          description: `partially update the specified ${t.kind}`,
          parameters: [...writes, FORCE],
          body: `${META}.Patch`,
          responses: written(self),
        }),
        op({
          method: 'delete',
          action: 'delete',
          operationId: `delete${word}${ns}${t.kind}`,
          description: `delete a ${t.kind}`,
          parameters: [DRY_RUN, GRACE, PROPAGATION],
          body: `${META}.DeleteOptions`,
          responses: { ...ok(self), '202': { description: 'Accepted', definition: self } },
        }),
      ],
    },
  ];
  if (t.namespaced)
    items.push({
      path: `${prefix}/${t.plural}`,
      parameters: [PRETTY],
      operations: [
        op({
          method: 'get',
          action: 'list',
          operationId: `list${word}${t.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${t.kind}`,
          parameters: LIST_PARAMS,
          responses: ok(list),
        }),
      ],
    });

  const sub = (s: string, ops: Operation[]) =>
    items.push({ path: `${base}/{name}/${s}`, parameters: [name, ...scope, PRETTY], operations: ops });
  const readWrite = (s: string, Word: string, target: string, targetGvk: Operation['gvk']) => [
    op({
      method: 'get',
      action: 'get',
      operationId: `read${word}${ns}${t.kind}${Word}`,
      description: `read ${s} of the specified ${t.kind}`,
      parameters: [],
      responses: ok(target),
      gvk: targetGvk,
    }),
    op({
      method: 'put',
      action: 'put',
      operationId: `replace${word}${ns}${t.kind}${Word}`,
      description: `replace ${s} of the specified ${t.kind}`,
      parameters: writes,
      body: target,
      responses: written(target),
      gvk: targetGvk,
    }),
    op({
      method: 'patch',
      action: 'patch',
      operationId: `patch${word}${ns}${t.kind}${Word}`,
      description: `partially update ${s} of the specified ${t.kind}`,
      parameters: [...writes, FORCE],
      body: `${META}.Patch`,
      responses: written(target),
      gvk: targetGvk,
    }),
  ];
  for (const s of t.subresources) {
    if (s === 'status') sub('status', readWrite('status', 'Status', self, gvk));
    if (s === 'ephemeralcontainers') sub(s, readWrite(s, 'Ephemeralcontainers', self, gvk));
    if (s === 'scale') {
      const scale = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      sub('scale', readWrite('scale', 'Scale', definition('autoscaling', 'v1', 'Scale'), scale));
    }
    if (s === 'binding' || s === 'eviction' || s === 'token') {
      const target =
        s === 'binding'
          ? { group: '', version: 'v1', kind: 'Binding' }
          : s === 'eviction'
            ? { group: 'policy', version: 'v1', kind: 'Eviction' }
            : { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
      const def = definition(target.group, target.version, target.kind);
      sub(s, [
        op({
          method: 'post',
          action: 'post',
          // Upstream names these after the subresource: createNamespacedPodBinding, …ServiceAccountToken.
          operationId: `create${word}${ns}${t.kind}${s[0].toUpperCase()}${s.slice(1)}`,
          description: `create ${s} of a ${t.kind}`,
          parameters: writes,
          body: def,
          responses: { ...written(def), '202': { description: 'Accepted', definition: def } },
          gvk: target,
        }),
      ]);
    }
    if (s === 'log')
      sub('log', [
        op({
          method: 'get',
          action: 'get',
          operationId: `read${word}${ns}${t.kind}Log`,
          description: `read log of the specified ${t.kind}`,
          parameters: ['container', 'follow', 'previous', 'sinceSeconds', 'tailLines', 'timestamps'].map(
            (p) =>
              q(
                p,
                p === 'container'
                  ? 'string'
                  : p === 'follow' || p === 'previous' || p === 'timestamps'
                    ? 'boolean'
                    : 'integer',
                `the ${p} option of the log`,
              ),
          ),
          responses: { '200': { description: 'OK', definition: 'string' } },
        }),
      ]);
  }
  return items;
}

/** `api/v1`, `apis/apps/v1`: how the OpenAPI v3 root names a group-version. */
export function groupVersionPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `apis/${apiVersionOf(t)}` : `api/${t.version}`;
}
