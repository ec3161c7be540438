import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/** Until OpenAPI lands (part 2), kubectl's client-side schema download must be skipped. */
const NO_VALIDATE = '--validate=false';

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}
interface Deployment {
  metadata: { resourceVersion: string; labels?: Record<string, string>; managedFields?: Entry[] };
  spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
}

function deployment(
  ns: string,
  name: string,
  o: { replicas?: number; image?: string; labels?: string } = {},
) {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}, labels: {${o.labels ?? 'app: web, tier: front'}}}
spec:
  replicas: ${o.replicas ?? 2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "${o.image ?? 'nginx:1.25'}", ports: [{containerPort: 80}]}]
`;
}

function ownsReplicas(e: Entry | undefined): boolean {
  return (e?.fieldsV1['f:spec'] as Record<string, unknown> | undefined)?.['f:replicas'] !== undefined;
}

describe.each([33, 30, 29])('server-side apply with kubectl 1.%i', (minor) => {
  let cluster: ApiCluster;
  const ns = `ssa${minor}`;
  const kubectl = (args: string[], input?: string) =>
    cluster.kubectl(minor, ['-n', ns, ...args], input === undefined ? undefined : { input });
  const apply = (input: string, ...flags: string[]) =>
    kubectl(['apply', '--server-side', NO_VALIDATE, ...flags, '-f', '-'], input);
  const get = async (name: string): Promise<Deployment> => {
    const r = await kubectl(['get', 'deploy', name, '-o', 'json', '--show-managed-fields']);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Deployment;
  };
  const entry = (d: Deployment, manager: string, operation = 'Apply') =>
    d.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);

  beforeAll(async () => {
    cluster = await startApiCluster();
    const r = await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    expect(r.status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('creates, then updates, and records kubectl as the Apply manager', async () => {
    const created = await apply(deployment(ns, 'ssa'));
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('deployment.apps/ssa serverside-applied\n');
    const updated = await apply(deployment(ns, 'ssa', { image: 'nginx:1.26' }));
    expect(updated.stdout).toBe('deployment.apps/ssa serverside-applied\n');
    const d = await get('ssa');
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(d.metadata.managedFields).toHaveLength(1);
    expect(entry(d, 'kubectl')).toMatchObject({ apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    const fields = JSON.stringify(entry(d, 'kubectl')?.fieldsV1);
    expect(fields).toContain('"f:containers":{"k:{\\"name\\":\\"app\\"}":{".":{}');
    // managedFields are hidden by default, as upstream kubectl does.
    const plain = JSON.parse((await kubectl(['get', 'deploy', 'ssa', '-o', 'json'])).stdout) as Deployment;
    expect(plain.metadata.managedFields).toBeUndefined();
  });

  it('applying the same manifest again changes nothing (the resourceVersion stays)', async () => {
    const before = await get('ssa');
    expect((await apply(deployment(ns, 'ssa', { image: 'nginx:1.26' }))).code).toBe(0);
    expect((await get('ssa')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('refuses a second manager changing a field kubectl owns, naming the field', async () => {
    const r = await apply(
      deployment(ns, 'ssa', { replicas: 5, image: 'nginx:1.26' }),
      '--field-manager=other',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect((await get('ssa')).spec.replicas).toBe(2);
  });

  it('--force-conflicts applies and moves ownership to the new manager', async () => {
    const r = await apply(
      deployment(ns, 'ssa', { replicas: 5, image: 'nginx:1.26' }),
      '--field-manager=other',
      '--force-conflicts',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('deployment.apps/ssa serverside-applied\n');
    const d = await get('ssa');
    expect(d.spec.replicas).toBe(5);
    expect(ownsReplicas(entry(d, 'other'))).toBe(true);
    expect(ownsReplicas(entry(d, 'kubectl'))).toBe(false);
    // Same values elsewhere: shared, so kubectl still owns the image.
    expect(JSON.stringify(entry(d, 'kubectl')?.fieldsV1)).toContain('f:image');
  });

  it('removes a label kubectl stops applying, and keeps one another manager also applies', async () => {
    const r = await apply(deployment(ns, 'ssa', { replicas: 5, image: 'nginx:1.26', labels: 'app: web' }));
    expect(r.stderr).toBe('');
    // "other" applied tier=front too: it stays.
    expect((await get('ssa')).metadata.labels).toEqual({ app: 'web', tier: 'front' });
    const solo = deployment(ns, 'solo');
    expect((await apply(solo)).code).toBe(0);
    expect((await apply(deployment(ns, 'solo', { labels: 'app: web' }))).code).toBe(0);
    expect((await get('solo')).metadata.labels).toEqual({ app: 'web' });
  });

  it('server dry-run applies nothing', async () => {
    const before = await get('solo');
    const r = await apply(deployment(ns, 'solo', { replicas: 9, labels: 'app: web' }), '--dry-run=server');
    expect(r.stdout).toBe('deployment.apps/solo serverside-applied (server dry run)\n');
    const after = await get('solo');
    expect(after.spec.replicas).toBe(2);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const missing = await apply(deployment(ns, 'ghost'), '--dry-run=server');
    expect(missing.code).toBe(0);
    expect((await kubectl(['get', 'deploy', 'ghost'])).stderr).toContain('NotFound');
  });

  it('takes over an object made by client-side apply (the last-applied request included)', async () => {
    const csa = await kubectl(['apply', NO_VALIDATE, '-f', '-'], deployment(ns, 'csa'));
    expect(csa.stdout).toBe('deployment.apps/csa created\n');
    expect(entry(await get('csa'), 'kubectl-client-side-apply', 'Update')).toBeDefined();
    // A changed replicas count: kubectl's own last-applied fields do not conflict.
    const r = await apply(deployment(ns, 'csa', { replicas: 3 }));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('deployment.apps/csa serverside-applied\n');
    const d = await get('csa');
    expect(d.spec.replicas).toBe(3);
    expect(ownsReplicas(entry(d, 'kubectl'))).toBe(true);
    expect(ownsReplicas(entry(d, 'kubectl-client-side-apply', 'Update'))).toBe(false);
  });

  it('records other writers as Update managers (kubectl scale, label)', async () => {
    expect((await kubectl(['scale', 'deploy', 'solo', '--replicas=4'])).code).toBe(0);
    expect((await kubectl(['label', 'deploy', 'solo', 'extra=yes'])).code).toBe(0);
    const d = await get('solo');
    const updates = (d.metadata.managedFields ?? []).filter((e) => e.operation === 'Update');
    expect(updates.some((e) => ownsReplicas(e))).toBe(true);
    expect(ownsReplicas(entry(d, 'kubectl'))).toBe(false);
    expect(JSON.stringify(updates)).toContain('f:extra');
  });
});

describe('server-side apply over HTTP', () => {
  let cluster: ApiCluster;
  const ns = 'ssa-http';
  const base = `/apis/apps/v1/namespaces/${ns}/deployments`;
  const APPLY = { 'content-type': 'application/apply-patch+yaml' };
  const body = (o: { name?: string; replicas?: number; extra?: Record<string, unknown> } = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name ?? 'web', ...(o.extra ?? {}) },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
      },
    },
  });

  beforeAll(async () => {
    cluster = await startApiCluster();
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('creates with 201, updates with 200, and takes YAML bodies', async () => {
    const created = await cluster.api('PATCH', `${base}/web?fieldManager=a`, body(), APPLY);
    expect(created.status).toBe(201);
    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: x}
`;
    const updated = await cluster.api<Deployment>('PATCH', `${base}/web?fieldManager=b`, yaml, APPLY);
    expect(updated.status).toBe(200);
    expect(updated.body.metadata.labels).toEqual({ team: 'x' });
    expect(updated.body.metadata.managedFields?.map((e) => [e.manager, e.operation])).toEqual([
      ['a', 'Apply'],
      ['b', 'Apply'],
    ]);
  });

  it('answers a conflict with upstream Status: one FieldManagerConflict cause per field', async () => {
    const r = await cluster.api(
      'PATCH',
      `${base}/web?fieldManager=c&force=false`,
      body({ replicas: 7 }),
      APPLY,
    );
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "a": .spec.replicas',
      details: {
        causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' }],
      },
    });
  });

  it('records a non-apply writer under its fieldManager, or its User-Agent program name', async () => {
    const patched = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web?fieldManager=patcher`,
      { spec: { replicas: 3 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    const mine = patched.body.metadata.managedFields?.find((e) => e.manager === 'patcher');
    expect(mine).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1' });
    expect(mine?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const byAgent = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web`,
      { spec: { replicas: 4 } },
      { 'content-type': 'application/merge-patch+json', 'user-agent': 'my-tool/1.0 (linux)' },
    );
    expect(byAgent.body.metadata.managedFields?.some((e) => e.manager === 'my-tool')).toBe(true);
    // A status write is recorded with its subresource.
    const status = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web/status?fieldManager=ctrl`,
      { status: { observedGeneration: 1 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(status.status).toBe(200);
    expect(status.body.metadata.managedFields?.find((e) => e.manager === 'ctrl')).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:observedGeneration': {} } },
    });
  });

  it('a write that changes nothing keeps the resourceVersion and managedFields', async () => {
    const before = await cluster.api<Deployment>('GET', `${base}/web`);
    const again = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web?fieldManager=later`,
      { spec: { replicas: 4 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(again.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
    expect(again.body.metadata.managedFields).toEqual(before.body.metadata.managedFields);
  });

  it('clears managedFields on [{}]', async () => {
    const r = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web`,
      { metadata: { managedFields: [{}] } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(r.status).toBe(200);
    expect(r.body.metadata.managedFields).toBeUndefined();
  });

  it('refuses bad apply requests and changes nothing', async () => {
    const before = await cluster.api<Deployment>('GET', `${base}/web`);
    const cases: [string, unknown, number, string][] = [
      [`${base}/web`, body(), 422, 'fieldManager: Required value: is required for apply patch'],
      [`${base}/web?fieldManager=${'m'.repeat(129)}`, body(), 422, 'fieldManager: Too long'],
      [
        `${base}/web?fieldManager=x`,
        { ...body(), apiVersion: 'apps/v2' },
        400,
        'Incorrect version specified',
      ],
      [
        `${base}/web?fieldManager=x`,
        { ...body(), kind: 'ReplicaSet' },
        400,
        'does not match the expected kind',
      ],
      [`${base}/web?fieldManager=x`, body({ name: 'other' }), 400, 'does not match the name on the URL'],
      [
        `${base}/web?fieldManager=x`,
        body({ extra: { managedFields: [] } }),
        400,
        'metadata.managedFields must be nil',
      ],
      [`${base}/web?fieldManager=x&force=maybe`, body(), 400, 'force'],
    ];
    for (const [path, b, code, message] of cases) {
      const r = await cluster.api<{ code: number; message: string }>('PATCH', path, b, APPLY);
      expect([path, r.status, r.body.code]).toEqual([path, code, code]);
      expect(r.body.message).toContain(message);
    }
    const forced = await cluster.api<{ message: string }>(
      'PATCH',
      `${base}/web?fieldManager=x&force=true`,
      { spec: { replicas: 1 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(forced.status).toBe(422);
    expect(forced.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    const long = await cluster.api('POST', `${base}?fieldManager=${'m'.repeat(129)}`, body({ name: 'x' }));
    expect(long.status).toBe(422);
    const after = await cluster.api<Deployment>('GET', `${base}/web`);
    expect(after.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
  });

  it('takes a resourceVersion in the configuration as a precondition', async () => {
    const stale = await cluster.api<{ message: string }>(
      'PATCH',
      `${base}/web?fieldManager=a&force=true`,
      body({ extra: { resourceVersion: '1' } }),
      APPLY,
    );
    expect(stale.status).toBe(409);
    expect(stale.body.message).toContain('the object has been modified');
    const current = await cluster.api<Deployment>('GET', `${base}/web`);
    const fresh = await cluster.api(
      'PATCH',
      `${base}/web?fieldManager=a&force=true`,
      body({ replicas: 2, extra: { resourceVersion: current.body.metadata.resourceVersion } }),
      APPLY,
    );
    expect(fresh.status).toBe(200);
  });

  it('applies to /status: only status is written, recorded under the subresource', async () => {
    const r = await cluster.api<Deployment & { status: { observedGeneration: number } }>(
      'PATCH',
      `${base}/web/status?fieldManager=status-writer&force=true`,
      { ...body({ replicas: 42 }), status: { observedGeneration: 7 } },
      APPLY,
    );
    expect(r.status).toBe(200);
    expect(r.body.status.observedGeneration).toBe(7);
    expect(r.body.spec.replicas).not.toBe(42);
    expect(r.body.metadata.managedFields?.find((e) => e.manager === 'status-writer')).toMatchObject({
      operation: 'Apply',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:observedGeneration': {} } },
    });
  });

  it('checks the fields of an apply to /status: Strict refuses an unknown one, the default drops it', async () => {
    const strict = await cluster.api<{ message: string }>(
      'PATCH',
      `${base}/web/status?fieldManager=status-writer&force=true&fieldValidation=Strict`,
      { ...body(), status: { observedGeneration: 8, madeUp: 1 } },
      APPLY,
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('unknown field "status.madeUp"');
    const warned = await cluster.api<Deployment & { status: Record<string, unknown> }>(
      'PATCH',
      `${base}/web/status?fieldManager=status-writer&force=true`,
      { ...body(), status: { observedGeneration: 8, madeUp: 1 } },
      APPLY,
    );
    expect(warned.status).toBe(200);
    expect(warned.headers.warning).toContain('unknown field \\"status.madeUp\\"');
    expect(warned.body.status.observedGeneration).toBe(8);
    expect(warned.body.status.madeUp).toBeUndefined();
  });

  it('dryRun=All applies nothing, for a create or an update', async () => {
    const create = await cluster.api(
      'PATCH',
      `${base}/dry?fieldManager=a&dryRun=All`,
      body({ name: 'dry' }),
      APPLY,
    );
    expect(create.status).toBe(201);
    expect((await cluster.api('GET', `${base}/dry`)).status).toBe(404);
    const update = await cluster.api<Deployment>(
      'PATCH',
      `${base}/web?fieldManager=a&dryRun=All&force=true`,
      body({ replicas: 9 }),
      APPLY,
    );
    expect(update.status).toBe(200);
    expect(update.body.spec.replicas).toBe(9);
    expect((await cluster.api<Deployment>('GET', `${base}/web`)).body.spec.replicas).not.toBe(9);
  });
});
