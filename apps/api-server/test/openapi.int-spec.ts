import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ResourceRegistry } from '@app/api';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { REVIEW_DISCOVERY } from '../src/auth/reviews.js';

interface StatusBody {
  kind: string;
  status: string;
  reason: string;
  code: number;
  message: string;
  details?: { causes?: { reason: string; field: string; message: string }[] };
}

function deployment(ns: string, name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
      },
      ...extra,
    },
  });
}

const SERVICE = (ns: string) => `apiVersion: v1
kind: Service
metadata: {name: front, namespace: ${ns}}
spec:
  selector: {app: front}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 81, targetPort: admin}]
`;

describe.each([33, 30, 29])('kubectl 1.%i validates through the server', (minor) => {
  let cluster: ApiCluster;
  const ns = `v${minor}`;

  beforeAll(async () => {
    cluster = await startApiCluster();
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('creates from a manifest without --validate=false (IntOrString ports included)', async () => {
    const r = await cluster.kubectl(minor, ['create', '-f', '-'], { input: SERVICE(ns) });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('service/front created\n');
  });

  it('applies client-side without --validate=false: created, configured, unchanged', async () => {
    const apply = (image: string) =>
      cluster.kubectl(minor, ['apply', '-f', '-'], {
        input: deployment(ns, 'shop').replace('nginx:1.25', image),
      });
    const first = await apply('nginx:1.25');
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('deployment.apps/shop created\n');
    expect((await apply('nginx:1.26')).stdout).toBe('deployment.apps/shop configured\n');
    expect((await apply('nginx:1.26')).stdout).toBe('deployment.apps/shop unchanged\n');
  });

  it('refuses a manifest with an unknown field with the strict decoding error', async () => {
    const r = await cluster.kubectl(minor, ['create', '-f', '-'], {
      input: deployment(ns, 'typo', { replicaz: 2 }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz"\n',
    );
    expect((await cluster.api('GET', `/apis/apps/v1/namespaces/${ns}/deployments/typo`)).status).toBe(404);
  });

  it('explains pod.spec.containers and deployment.spec from the served schemas', async () => {
    const containers = await cluster.kubectl(minor, ['explain', 'pod.spec.containers']);
    expect(containers.stderr).toBe('');
    expect(containers.stdout).toMatch(/^FIELD: +containers <\[\]Container>$/m);
    expect(containers.stdout).toContain('List of containers belonging to the pod.');
    expect(containers.stdout).toMatch(/^ {2}image\t<string>$/m);
    expect(containers.stdout).toMatch(/^ {2}name\t<string> -required-$/m);
    const surge = await cluster.kubectl(minor, [
      'explain',
      'deployment.spec.strategy.rollingUpdate.maxSurge',
    ]);
    expect(surge.stdout).toMatch(/^FIELD: +maxSurge <IntOrString>$/m);
    const limits = await cluster.kubectl(minor, ['explain', 'pod.spec.containers.resources.limits']);
    expect(limits.stdout).toMatch(/^FIELD: +limits <map\[string\]Quantity>$/m);
    const spec = await cluster.kubectl(minor, ['explain', 'deployment.spec']);
    expect(spec.stderr).toBe('');
    expect(spec.stdout).toMatch(/^KIND: +Deployment$/m);
    expect(spec.stdout).toMatch(/^ {2}replicas\t<integer>$/m);
    expect(spec.stdout).toMatch(/^ {2}selector\t<LabelSelector> -required-$/m);
    expect(spec.stdout).toMatch(
      /DeploymentSpec is the specification of the desired behavior of the\s+Deployment\./,
    );
  });
});

describe.each([27, 28])('kubectl 1.%i (OpenAPI v2 in protobuf only)', (minor) => {
  let cluster: ApiCluster;
  const ns = `old${minor}`;

  beforeAll(async () => {
    cluster = await startApiCluster();
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('creates and applies with --validate=false', async () => {
    const created = await cluster.kubectl(minor, ['create', '-f', '-', '--validate=false'], {
      input: SERVICE(ns),
    });
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('service/front created\n');
    const applied = await cluster.kubectl(minor, ['apply', '-f', '-', '--validate=false'], {
      input: deployment(ns, 'shop'),
    });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('deployment.apps/shop created\n');
  });

  it('without it, fails cleanly (no protobuf parse error) and changes nothing', async () => {
    const r = await cluster.kubectl(minor, ['create', '-f', '-'], { input: deployment(ns, 'checked') });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/proto|wire-format/);
    expect(r.stderr).toContain('the server could not find the requested resource');
    expect((await cluster.api('GET', `/apis/apps/v1/namespaces/${ns}/deployments/checked`)).status).toBe(404);
  });
});

describe('OpenAPI documents and field validation over HTTP', () => {
  let cluster: ApiCluster;
  const ns = 'fv';
  const cms = `/api/v1/namespaces/${ns}/configmaps`;

  beforeAll(async () => {
    cluster = await startApiCluster();
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('lists every served group-version in the v3 root, each at an immutable hashed URL', async () => {
    const root = await cluster.api<{ paths: Record<string, { serverRelativeURL: string }> }>(
      'GET',
      '/openapi/v3',
    );
    expect(root.status).toBe(200);
    // The stored kinds' group-versions, and those of the create-only access reviews.
    const expected = new Set(
      [...new ResourceRegistry().types, ...REVIEW_DISCOVERY].map((t) =>
        t.group ? `apis/${t.group}/${t.version}` : 'api/v1',
      ),
    );
    expect(expected).toContain('apis/authorization.k8s.io/v1');
    expect(new Set(Object.keys(root.body.paths))).toEqual(expected);
    const reviews = await cluster.api<{ paths: Record<string, Record<string, unknown>> }>(
      'GET',
      root.body.paths['apis/authorization.k8s.io/v1'].serverRelativeURL,
    );
    expect(Object.keys(reviews.body.paths).sort()).toEqual([
      '/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    ]);
    // Create is the one operation, as upstream publishes it.
    expect(
      Object.keys(reviews.body.paths['/apis/authorization.k8s.io/v1/subjectaccessreviews']).sort(),
    ).toEqual(['parameters', 'post']);
    const url = root.body.paths['apis/apps/v1'].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    const doc = await cluster.api<{
      paths: Record<
        string,
        Record<
          string,
          { parameters?: { name: string; in: string }[]; 'x-kubernetes-group-version-kind'?: object }
        >
      >;
      components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: object[] }> };
    }>('GET', url);
    expect(doc.status).toBe(200);
    expect(doc.headers['cache-control']).toBe('public, immutable');
    const patch = doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    expect(patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    expect(
      doc.body.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(doc.body.components.schemas['io.k8s.api.core.v1.PodSpec']).toBeDefined();
    const stale = await cluster.api('GET', '/openapi/v3/apis/apps/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.location).toBe(url);
    expect((await cluster.api('GET', '/openapi/v3/apis/nope.example.com/v1')).status).toBe(404);
  });

  it('serves v2 as JSON, and refuses a protobuf-only Accept with 406 so old kubectls fall through to a 404', async () => {
    const json = await cluster.api<{
      swagger: string;
      definitions: Record<string, unknown>;
      paths: Record<string, unknown>;
    }>('GET', '/openapi/v2');
    expect(json.status).toBe(200);
    expect(json.body.swagger).toBe('2.0');
    expect(json.body.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      type: 'string',
      format: 'int-or-string',
    });
    expect(json.body.paths['/api/v1/namespaces/{namespace}/pods/{name}']).toBeDefined();
    const proto = await cluster.api<StatusBody>('GET', '/openapi/v2', undefined, {
      accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
    });
    expect(proto.status).toBe(406);
    expect(proto.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotAcceptable',
      code: 406,
    });
    expect((await cluster.api('GET', '/swagger-2.0.0.pb-v1')).status).toBe(404);
  });

  it('Warn (the default) stores without the unknown fields and warns once per field, in document order', async () => {
    const body = { metadata: { name: 'warned', bogus: 1 }, data: { a: 'b' }, extra: true };
    const r = await cluster.api<{ metadata: Record<string, unknown> }>('POST', cms, body);
    expect(r.status).toBe(201);
    expect(r.headers.warning).toBe(
      '299 - "unknown field \\"metadata.bogus\\"", 299 - "unknown field \\"extra\\""',
    );
    const stored = await cluster.api<Record<string, unknown>>('GET', `${cms}/warned`);
    expect(stored.body).not.toHaveProperty('extra');
    expect(stored.body.metadata).not.toHaveProperty('bogus');
  });

  it('bounds the warnings of a body with thousands of unknown fields, and escapes what a header cannot carry', async () => {
    const extra = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknownField${i}`, i]));
    const r = await cluster.api<Record<string, unknown>>('POST', cms, {
      metadata: { name: 'many' },
      ...extra,
    });
    expect(r.status).toBe(201);
    const header = String(r.headers.warning);
    expect(header.startsWith('299 - "unknown field \\"unknownField0\\""')).toBe(true);
    expect(header.length).toBeLessThan(8 * 1024);
    expect(r.body).not.toHaveProperty('unknownField0');
    const named = await cluster.api('POST', cms, { metadata: { name: 'unicode' }, 中文: 1, 'é\u0001': 2 });
    expect(named.status).toBe(201);
    expect(named.headers.warning).toBe(
      '299 - "unknown field \\"\\u4e2d\\u6587\\"", 299 - "unknown field \\"\\u00e9\\\\u0001\\""',
    );
  });

  it('Ignore drops unknown fields silently', async () => {
    const r = await cluster.api<Record<string, unknown>>('POST', `${cms}?fieldValidation=Ignore`, {
      metadata: { name: 'ignored' },
      extra: true,
    });
    expect(r.status).toBe(201);
    expect(r.headers.warning).toBeUndefined();
    expect(r.body).not.toHaveProperty('extra');
  });

  it('Strict refuses unknown and duplicate fields in one error, and stores nothing', async () => {
    const text = '{"metadata":{"name":"strict","name":"strict"},"data":{"a":"b"},"extra":1}';
    const r = await cluster.api<StatusBody>('POST', `${cms}?fieldValidation=Strict`, text);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect(r.body.message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra", duplicate field "metadata.name"',
    );
    expect((await cluster.api('GET', `${cms}/strict`)).status).toBe(404);
  });

  it('Warn reports duplicate keys and keeps the last value', async () => {
    const r = await cluster.api<{ data: Record<string, string> }>(
      'POST',
      cms,
      '{"metadata":{"name":"dup"},"data":{"a":"first","a":"last"}}',
    );
    expect(r.status).toBe(201);
    expect(r.headers.warning).toBe('299 - "duplicate field \\"data.a\\""');
    expect(r.body.data).toEqual({ a: 'last' });
  });

  it('refuses an unknown fieldValidation value, naming the supported ones', async () => {
    const r = await cluster.api<StatusBody>('POST', `${cms}?fieldValidation=Loud`, {
      metadata: { name: 'x' },
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'fieldValidation: Unsupported value: "Loud": supported values: "Ignore", "Warn", "Strict"',
    );
  });

  it('checks the patched object (Strict refuses, Warn drops) and the status subresource too', async () => {
    const merge = { 'content-type': 'application/merge-patch+json' };
    const strict = await cluster.api<StatusBody>(
      'PATCH',
      `${cms}/warned?fieldValidation=Strict`,
      { data: { c: 'd' }, spec: { nope: 1 } },
      merge,
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('strict decoding error: unknown field "spec"');
    const warn = await cluster.api<{ data: Record<string, string> }>(
      'PATCH',
      `${cms}/warned`,
      { data: { c: 'd' }, spec: 1 },
      merge,
    );
    expect(warn.status).toBe(200);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"spec\\""');
    expect(warn.body.data).toEqual({ a: 'b', c: 'd' });
    const pod = await cluster.api('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    expect(pod.status).toBe(201);
    const status = await cluster.api<StatusBody>(
      'PATCH',
      `/api/v1/namespaces/${ns}/pods/p/status?fieldValidation=Strict`,
      { status: { phasee: 'Running' } },
      merge,
    );
    expect(status.status).toBe(400);
    expect(status.body.message).toBe('strict decoding error: unknown field "status.phasee"');
    const deploy = await cluster.api(
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      deployment(ns, 'scaled'),
    );
    expect(deploy.status).toBe(201);
    const scale = await cluster.api<StatusBody>(
      'PATCH',
      `/apis/apps/v1/namespaces/${ns}/deployments/scaled/scale?fieldValidation=Strict`,
      { spec: { replicas: 2, replicaz: 3 } },
      merge,
    );
    expect(scale.status).toBe(400);
    expect(scale.body.message).toBe('strict decoding error: unknown field "spec.replicaz"');
  });

  it('answers schema violations with 422 Invalid, one cause per violation with its field path', async () => {
    const r = await cluster.api<StatusBody>('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'bad' },
      spec: {
        restartPolicy: 'Sometimes',
        containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 'eighty' }] }, { image: 'x' }],
      },
    });
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    const causes = r.body.details?.causes ?? [];
    expect(causes).toContainEqual({
      reason: 'FieldValueRequired',
      message: 'Required value',
      field: 'spec.containers[1].name',
    });
    expect(causes).toContainEqual({
      reason: 'FieldValueNotSupported',
      message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
      field: 'spec.restartPolicy',
    });
    expect(causes).toContainEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "eighty": must be of type integer',
      field: 'spec.containers[0].ports[0].containerPort',
    });
    expect(r.body.message).toMatch(/^Pod "bad" is invalid: \[/);
    expect(r.body.message).toContain('spec.restartPolicy: Unsupported value: "Sometimes"');
    expect((await cluster.api('GET', `/api/v1/namespaces/${ns}/pods/bad`)).status).toBe(404);
  });

  it('accepts what kubectl rollout undo sends: creationTimestamp null and empty resources', async () => {
    const created = await cluster.api(
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments?fieldValidation=Strict`,
      deployment(ns, 'undo'),
    );
    expect(created.status).toBe(201);
    const template = {
      metadata: { creationTimestamp: null, labels: { app: 'undo' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.24', resources: {} }] },
    };
    const r = await cluster.api<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      'PATCH',
      `/apis/apps/v1/namespaces/${ns}/deployments/undo?fieldValidation=Strict`,
      [{ op: 'replace', path: '/spec/template', value: template }],
      { 'content-type': 'application/json-patch+json' },
    );
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers[0].image).toBe('nginx:1.24');
  });
});
