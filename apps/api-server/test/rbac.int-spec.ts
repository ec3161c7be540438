import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ensureBootstrapPolicy } from '../src/bootstrap/rbac-policy.js';
import { RbacCaches } from '../src/authz/rbac-caches.js';
import { ClusterConnections } from '../src/cluster-connections.js';
import { ObjectService } from '../src/objects/object-service.js';
import { ResourceRegistry } from '@app/api';

type Status = {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: Record<string, unknown>;
};
type Rule = { verbs: string[]; apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[] };
type ClusterRole = {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  aggregationRule?: unknown;
  rules: Rule[];
};

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/**
 * RBAC enforced on a real API server, driven by the real kubectl with service-account tokens:
 * default deny with upstream's Forbidden wording, discovery and self reviews for everyone,
 * Roles and ClusterRoles granted through bindings in one namespace or all, resourceNames,
 * non-resource URLs, `kubectl auth can-i` (and --list) answered from the same rules, and the
 * default policy every cluster starts with, put back on start while it is auto-updated.
 */
describe('RBAC: authorization of every request', () => {
  let c: ApiCluster;
  const ns = 'team';
  const MINORS = [29, 33];
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    c = await startApiCluster();
    for (const name of [ns, 'elsewhere'])
      expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name } })).status).toBe(201);
    [alice, bob] = await Promise.all([serviceAccountToken('alice'), serviceAccountToken('bob')]);
  });
  afterAll(async () => {
    await c?.close();
  });

  /** A new service account of the test namespace, and a token of it. */
  const serviceAccountToken = async (name: string) => {
    await c.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
    const request = await c.ok<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
      { spec: {} },
    );
    return request.status.token;
  };

  const as = (token: string, minor: number, ...args: string[]) =>
    c.kubectl(minor, ['--token', token, ...args]);
  const canI = async (token: string, minor: number, ...args: string[]) =>
    (await as(token, minor, 'auth', 'can-i', ...args)).stdout.trim();
  /** The same request as `token`, with its HTTP answer. */
  const apiAs = <T = Status>(token: string, method: string, path: string, body?: unknown) =>
    c.api<T>(method, path, body, { authorization: `Bearer ${token}` });

  it.each(MINORS)(
    'kubectl 1.%i: a service account with no binding may discover the API but read nothing',
    async (minor) => {
      const listed = await as(alice, minor, 'get', 'pods', '-n', ns);
      expect(listed.code).not.toBe(0);
      expect(listed.stderr).toContain(
        `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:${ns}:alice" cannot list resource "pods" in API group "" in the namespace "${ns}"`,
      );
      const got = await as(alice, minor, 'get', 'deployment', 'web', '-n', ns);
      expect(got.stderr).toContain(
        `Error from server (Forbidden): deployments.apps "web" is forbidden: User "system:serviceaccount:${ns}:alice" cannot get resource "deployments" in API group "apps" in the namespace "${ns}"`,
      );
      const secrets = await as(alice, minor, 'get', 'secrets', '-A');
      expect(secrets.stderr).toContain('cannot list resource "secrets" in API group "" at the cluster scope');
      const metrics = await as(alice, minor, 'get', '--raw', '/metrics');
      expect(metrics.stderr).toContain(
        `forbidden: User "system:serviceaccount:${ns}:alice" cannot get path "/metrics"`,
      );

      // Discovery (system:discovery) and the self reviews (system:basic-user) are everyone's.
      const versions = await as(alice, minor, 'api-versions');
      expect(versions.code).toBe(0);
      expect(versions.stdout).toContain('rbac.authorization.k8s.io/v1');
      expect(await canI(alice, minor, 'list', 'pods', '-n', ns)).toBe('no');
      expect(await canI(alice, minor, 'get', '/version')).toBe('yes');
      expect(await canI(alice, minor, 'get', '/metrics')).toBe('no');
    },
  );

  it('answers a denied request with a 403 Status naming the object, and changes nothing', async () => {
    const before = (
      await c.ok<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces?limit=1')
    ).metadata.resourceVersion;
    const r = await apiAs(alice, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'x' } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `configmaps is forbidden: User "system:serviceaccount:${ns}:alice" cannot create resource "configmaps" in API group "" in the namespace "${ns}"`,
      reason: 'Forbidden',
      details: { kind: 'configmaps' },
      code: 403,
    });
    const after = (await c.ok<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces?limit=1'))
      .metadata.resourceVersion;
    expect(after).toBe(before);
    // A watch is authorized as one: `watch` on the collection.
    const watch = await apiAs(alice, 'GET', `/api/v1/namespaces/${ns}/pods?watch=true`);
    expect(watch.status).toBe(403);
    expect(watch.body.message).toContain('cannot watch resource "pods"');
  });

  it.each(MINORS)(
    'kubectl 1.%i: a Role bound in one namespace grants exactly its rules there',
    async (minor) => {
      const role = `pod-reader-${minor}`;
      expect(
        (
          await c.kubectl(minor, [
            'create',
            'role',
            role,
            '-n',
            ns,
            '--verb=get,list,watch',
            '--resource=pods',
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await c.kubectl(minor, [
            'create',
            'rolebinding',
            role,
            '-n',
            ns,
            `--role=${role}`,
            `--serviceaccount=${ns}:bob`,
          ])
        ).code,
      ).toBe(0);
      await waitFor('bob to be allowed to list pods', async () =>
        (await canI(bob, minor, 'list', 'pods', '-n', ns)) === 'yes' ? true : undefined,
      );
      const listed = await as(bob, minor, 'get', 'pods', '-n', ns);
      expect(listed.stderr).toBe('No resources found in team namespace.\n');
      expect(listed.code).toBe(0);
      expect(await canI(bob, minor, 'delete', 'pods', '-n', ns)).toBe('no');
      expect(await canI(bob, minor, 'list', 'pods', '-n', 'elsewhere')).toBe('no');
      expect(await canI(bob, minor, 'list', 'pods', '-A')).toBe('no');
      expect(await canI(bob, minor, 'get', 'pods', '--subresource=log', '-n', ns)).toBe('no');
      // The reason can-i is given is the binding that allows it.
      const review = await apiAs<{ status: { allowed: boolean; reason?: string } }>(
        bob,
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        { spec: { resourceAttributes: { namespace: ns, verb: 'watch', resource: 'pods' } } },
      );
      expect(review.body.status).toEqual({
        allowed: true,
        reason: `RBAC: allowed by RoleBinding "${role}/${ns}" of Role "${role}" to ServiceAccount "bob/${ns}"`,
      });
      // --list shows the role's rules next to everyone's.
      const rows = (await as(bob, minor, 'auth', 'can-i', '--list', '-n', ns)).stdout.split('\n');
      expect(rows).toContainEqual(expect.stringMatching(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]/));
      expect(rows).toContainEqual(
        expect.stringMatching(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/),
      );
      expect(rows).toContainEqual(expect.stringMatching(/^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]/));
      expect((await c.kubectl(minor, ['delete', 'rolebinding', role, '-n', ns])).code).toBe(0);
      await waitFor('the grant to end with its binding', async () =>
        (await canI(bob, minor, 'list', 'pods', '-n', ns)) === 'no' ? true : undefined,
      );
    },
  );

  it('resourceNames allow the named object only, and never a list', async () => {
    await c.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'open' },
      data: { a: '1' },
    });
    await c.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: 'closed' },
      data: { a: '2' },
    });
    await c.ok('POST', `${RBAC}/namespaces/${ns}/roles`, {
      metadata: { name: 'one-config' },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['open'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    });
    await c.ok('POST', `${RBAC}/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'one-config' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-config' },
      subjects: [{ kind: 'ServiceAccount', name: 'alice', namespace: ns }],
    });
    await waitFor('alice to read the open config map', async () =>
      (await apiAs(alice, 'GET', `/api/v1/namespaces/${ns}/configmaps/open`)).status === 200
        ? true
        : undefined,
    );
    expect((await apiAs(alice, 'GET', `/api/v1/namespaces/${ns}/configmaps/closed`)).status).toBe(403);
    expect((await apiAs(alice, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).status).toBe(403);
    // A list or watch that selects the one name is a request for it (RequestInfo reads the selector).
    const selected = await apiAs<{ items: unknown[] }>(
      alice,
      'GET',
      `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.name%3Dopen`,
    );
    expect(selected.status).toBe(200);
    expect(selected.body.items).toHaveLength(1);
    expect((await apiAs(alice, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/open`)).status).toBe(403);
  });

  it.each(MINORS)(
    'kubectl 1.%i: the default view and admin roles, bound in a namespace, grant what upstream’s do',
    async (minor) => {
      const sa = `viewer-${minor}`;
      const token = await serviceAccountToken(sa);
      expect(
        (
          await c.kubectl(minor, [
            'create',
            'rolebinding',
            sa,
            '-n',
            ns,
            '--clusterrole=view',
            `--serviceaccount=${ns}:${sa}`,
          ])
        ).code,
      ).toBe(0);
      await waitFor('the view binding to apply', async () =>
        (await canI(token, minor, 'list', 'deployments.apps', '-n', ns)) === 'yes' ? true : undefined,
      );
      // view: reads most things in the namespace, never secrets, never writes, nothing elsewhere.
      expect(await canI(token, minor, 'get', 'configmaps', '-n', ns)).toBe('yes');
      expect(await canI(token, minor, 'get', 'pods', '--subresource=log', '-n', ns)).toBe('yes');
      expect(await canI(token, minor, 'get', 'secrets', '-n', ns)).toBe('no');
      expect(await canI(token, minor, 'create', 'pods', '-n', ns)).toBe('no');
      expect(await canI(token, minor, 'list', 'pods', '-n', 'elsewhere')).toBe('no');
      // admin aggregates edit, which aggregates view; it adds the namespace's RBAC.
      expect(
        (
          await c.kubectl(minor, [
            'create',
            'rolebinding',
            `${sa}-admin`,
            '-n',
            'elsewhere',
            '--clusterrole=admin',
            `--serviceaccount=${ns}:${sa}`,
          ])
        ).code,
      ).toBe(0);
      await waitFor('the admin binding to apply', async () =>
        (await canI(token, minor, 'create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'elsewhere')) ===
        'yes'
          ? true
          : undefined,
      );
      for (const question of [
        ['get', 'secrets'],
        ['create', 'deployments.apps'],
        ['create', 'pods', '--subresource=exec'],
        ['list', 'pods'],
      ])
        expect(await canI(token, minor, ...question, '-n', 'elsewhere')).toBe('yes');
      expect(await canI(token, minor, 'delete', 'namespaces/elsewhere')).toBe('no');
      expect(await canI(token, minor, 'create', 'rolebindings.rbac.authorization.k8s.io', '-n', ns)).toBe(
        'no',
      );
    },
  );

  it('answers SubjectAccessReviews about another user, and LocalSubjectAccessReviews within their namespace', async () => {
    const AUTHZ = '/apis/authorization.k8s.io/v1';
    const saUser = `system:serviceaccount:${ns}:alice`;
    const about = (resourceAttributes: Record<string, string>) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: saUser, groups: ['system:serviceaccounts'], resourceAttributes },
    });
    const sar = await c.ok<{ kind: string; status: unknown }>(
      'POST',
      `${AUTHZ}/subjectaccessreviews`,
      about({ namespace: ns, verb: 'get', resource: 'configmaps', name: 'open' }),
    );
    expect(sar.kind).toBe('SubjectAccessReview');
    expect(sar.status).toEqual({
      allowed: true,
      reason: `RBAC: allowed by RoleBinding "one-config/${ns}" of Role "one-config" to ServiceAccount "alice/${ns}"`,
    });
    expect(
      (
        await c.ok<{ status: unknown }>(
          'POST',
          `${AUTHZ}/subjectaccessreviews`,
          about({ namespace: ns, verb: 'delete', resource: 'configmaps', name: 'open' }),
        )
      ).status,
    ).toEqual({ allowed: false });
    const nobody = await c.api<Status>('POST', `${AUTHZ}/subjectaccessreviews`, {
      spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
    });
    expect(nobody.status).toBe(422);
    expect(nobody.body.details).toMatchObject({
      causes: [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.user',
          message: 'Invalid value: "": at least one of user or group must be specified',
        },
      ],
    });
    // Asking about others is a right of its own.
    expect(
      (await apiAs(alice, 'POST', `${AUTHZ}/subjectaccessreviews`, about({ verb: 'get', resource: 'pods' })))
        .status,
    ).toBe(403);

    const local = await c.ok<{ metadata: { namespace: string }; status: unknown }>(
      'POST',
      `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`,
      { ...about({ namespace: ns, verb: 'list', resource: 'configmaps' }), kind: 'LocalSubjectAccessReview' },
    );
    expect(local.metadata.namespace).toBe(ns);
    expect(local.status).toEqual({ allowed: false });
    const elsewhere = await c.api<Status>('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, {
      spec: { user: 'jane', resourceAttributes: { namespace: 'elsewhere', verb: 'get', resource: 'pods' } },
    });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.message).toContain(
      'spec.resourceAttributes.namespace: Invalid value: "elsewhere": must match metadata.namespace',
    );
    const urls = await c.api<Status>('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, {
      spec: { user: 'jane', nonResourceAttributes: { path: '/healthz', verb: 'get' } },
    });
    expect(urls.status).toBe(422);
    expect(urls.body.message).toContain('spec.nonResourceAttributes: Invalid value:');
    expect(urls.body.message).toContain('disallowed on this kind of request');
    const mismatch = await c.api<Status>('POST', `${AUTHZ}/namespaces/${ns}/localsubjectaccessreviews`, {
      metadata: { namespace: 'elsewhere' },
      spec: { user: 'jane', resourceAttributes: { namespace: ns, verb: 'get', resource: 'pods' } },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  });

  it.each(MINORS)(
    'kubectl 1.%i finds the review kinds in discovery and OpenAPI: create -f answers them, api-resources lists them create-only, explain describes them',
    async (minor) => {
      const resources = await c.kubectl(minor, [
        'api-resources',
        '--api-group=authorization.k8s.io',
        '-o',
        'wide',
      ]);
      expect(resources.code).toBe(0);
      const rows = resources.stdout.split('\n').map((l) => l.trim().split(/\s+/));
      const row = (name: string) => rows.find((r) => r[0] === name);
      expect(row('subjectaccessreviews')).toEqual([
        'subjectaccessreviews',
        'authorization.k8s.io/v1',
        'false',
        'SubjectAccessReview',
        'create',
      ]);
      expect(row('localsubjectaccessreviews')?.slice(2)).toEqual([
        'true',
        'LocalSubjectAccessReview',
        'create',
      ]);
      expect(row('selfsubjectrulesreviews')?.slice(2)).toEqual(['false', 'SelfSubjectRulesReview', 'create']);
      const whoami = await c.kubectl(minor, ['api-resources', '--api-group=authentication.k8s.io']);
      expect(whoami.stdout).toMatch(
        /selfsubjectreviews\s+authentication\.k8s\.io\/v1\s+false\s+SelfSubjectReview/,
      );

      const review = (kind: string, namespace?: string) =>
        JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind,
          ...(namespace ? { metadata: { namespace } } : {}),
          spec: {
            user: 'jane',
            groups: ['system:masters'],
            resourceAttributes: { namespace: ns, verb: 'get', resource: 'configmaps', name: 'open' },
          },
        });
      // Client-side validation: kubectl validates a kind with no PATCH operation (the server
      // cannot take its fieldValidation) against OpenAPI v2 in protobuf, which Wake does not serve.
      const sar = await c.kubectl(minor, ['create', '--validate=false', '-f', '-', '-o', 'json'], {
        input: review('SubjectAccessReview'),
      });
      expect(sar.stderr).toBe('');
      expect(JSON.parse(sar.stdout)).toMatchObject({
        kind: 'SubjectAccessReview',
        status: { allowed: true },
      });
      const local = await c.kubectl(
        minor,
        ['create', '--validate=false', '-n', ns, '-f', '-', '-o', 'json'],
        {
          input: review('LocalSubjectAccessReview', ns),
        },
      );
      expect(local.stderr).toBe('');
      expect(JSON.parse(local.stdout)).toMatchObject({
        kind: 'LocalSubjectAccessReview',
        metadata: { namespace: ns },
        status: { allowed: true },
      });
      // Their schemas are in OpenAPI v3, which kubectl explain reads.
      const explained = await c.kubectl(minor, ['explain', 'subjectaccessreviews.spec.resourceAttributes']);
      expect(explained.stderr).toBe('');
      expect(explained.stdout).toContain('GROUP:      authorization.k8s.io');
      expect(explained.stdout).toContain('KIND:       SubjectAccessReview');
      expect(explained.stdout).toMatch(/verb\s+<string>/);
      // Create is all they take.
      const listed = await c.kubectl(minor, ['get', 'subjectaccessreviews']);
      expect(listed.code).not.toBe(0);
      expect(listed.stderr).toContain('(MethodNotAllowed)');
    },
  );

  it('a ClusterRoleBinding grants in every namespace and at the cluster scope; a missing role is the denial’s reason', async () => {
    await c.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'node-reader' },
      rules: [{ apiGroups: [''], resources: ['nodes', 'namespaces'], verbs: ['get', 'list'] }],
    });
    await c.ok('POST', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'node-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'bob', namespace: ns }],
    });
    await waitFor('bob to list namespaces', async () =>
      (await apiAs(bob, 'GET', '/api/v1/namespaces')).status === 200 ? true : undefined,
    );
    expect((await apiAs(bob, 'GET', '/api/v1/nodes')).status).toBe(200);
    expect((await apiAs(bob, 'GET', '/api/v1/namespaces/elsewhere')).status).toBe(200);
    expect((await apiAs(bob, 'DELETE', '/api/v1/namespaces/elsewhere')).status).toBe(403);

    await c.ok('POST', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'dangling' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'not-there' },
      subjects: [{ kind: 'ServiceAccount', name: 'bob', namespace: ns }],
    });
    const denied = await waitFor('the dangling binding to be seen', async () => {
      const r = await apiAs(bob, 'GET', '/api/v1/secrets');
      return r.body.message?.includes('not-there') ? r : undefined;
    });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(
      `secrets is forbidden: User "system:serviceaccount:${ns}:bob" cannot list resource "secrets" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "not-there" not found`,
    );
    // can-i --list says the rules it gives are incomplete, and why; it needs a namespace.
    const rules = await apiAs<{ status: { incomplete: boolean; evaluationError?: string } }>(
      bob,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { spec: { namespace: ns } },
    );
    expect(rules.body.status).toMatchObject({
      incomplete: true,
      evaluationError: 'clusterrole.rbac.authorization.k8s.io "not-there" not found',
    });
    const anywhere = await apiAs(bob, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      spec: {},
    });
    expect(anywhere.status).toBe(400);
    expect(anywhere.body.message).toBe('no namespace on request');
  });

  it.each(MINORS)(
    'kubectl 1.%i: invalid roles and bindings are refused with their field paths, and a roleRef never changes',
    async (minor) => {
      const bad = await c.kubectl(minor, ['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: `bad-${minor}`, namespace: ns },
          rules: [
            { apiGroups: [''], resources: ['pods'] },
            { verbs: ['get'], nonResourceURLs: ['/healthz'] },
          ],
        }),
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain(`The Role "bad-${minor}" is invalid: `);
      expect(bad.stderr).toContain('rules[0].verbs: Required value: verbs must contain at least one value');
      expect(bad.stderr).toContain(
        'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
      );
      expect((await c.api('GET', `${RBAC}/namespaces/${ns}/roles/bad-${minor}`)).status).toBe(404);

      const made = await c.kubectl(minor, [
        'create',
        'rolebinding',
        `fixed-${minor}`,
        '-n',
        ns,
        '--clusterrole=view',
        '--user=jane',
      ]);
      expect(made.code).toBe(0);
      const stored = await c.ok<{ roleRef: unknown; subjects: unknown[] }>(
        'GET',
        `${RBAC}/namespaces/${ns}/rolebindings/fixed-${minor}`,
      );
      expect(stored.subjects).toEqual([
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' },
      ]);
      const changed = await c.kubectl(minor, [
        'patch',
        'rolebinding',
        `fixed-${minor}`,
        '-n',
        ns,
        '--type=merge',
        '-p',
        '{"roleRef":{"name":"edit"}}',
      ]);
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toContain(
        `The RoleBinding "fixed-${minor}" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef`,
      );
    },
  );

  it.each(MINORS)(
    'kubectl 1.%i --as: the admin checks another user’s rights, and a write made so records both',
    async (minor) => {
      const saUser = `system:serviceaccount:${ns}:alice`;
      expect(
        (
          await c.kubectl(minor, ['auth', 'can-i', 'list', 'secrets', '-n', ns, `--as=${saUser}`])
        ).stdout.trim(),
      ).toBe('no');
      const listed = await c.kubectl(minor, ['get', 'secrets', '-n', ns, `--as=${saUser}`]);
      expect(listed.stderr).toContain(
        `secrets is forbidden: User "${saUser}" cannot list resource "secrets"`,
      );
      const who = JSON.parse(
        (
          await c.kubectl(minor, [
            'auth',
            'whoami',
            '-o',
            'json',
            '--as=jane',
            '--as-group=devs',
            '--as-group=ops',
          ])
        ).stdout,
      ) as { status: { userInfo: { username: string; groups: string[] } } };
      expect(who.status.userInfo).toEqual({
        username: 'jane',
        groups: ['devs', 'ops', 'system:authenticated'],
      });

      const made = await c.kubectl(minor, [
        'create',
        'configmap',
        `as-jane-${minor}`,
        '-n',
        ns,
        '--as=jane',
        '--as-group=system:masters',
        '-o',
        'json',
      ]);
      expect(made.code).toBe(0);
      const rv = Number(
        (JSON.parse(made.stdout) as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
      );
      const event = await c.server.app.get(ClusterConnections).store.events.at(rv);
      expect(event?.actor).toMatchObject({
        user: 'jane',
        groups: ['system:masters', 'system:authenticated'],
        impersonator: { user: 'admin', groups: ['system:masters', 'system:authenticated'] },
      });

      // Impersonating takes the impersonate verb: a service account without it is refused.
      const refused = await as(bob, minor, 'get', 'pods', '-n', ns, '--as=jane');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        `Error from server (Forbidden): users "jane" is forbidden: User "system:serviceaccount:${ns}:bob" cannot impersonate resource "users" in API group "" at the cluster scope`,
      );
    },
  );

  describe('escalation: nobody grants what they do not hold', () => {
    const esc = 'escalation';
    const carol = 'carol';
    let token: string;
    const groups = `["system:serviceaccounts" "system:serviceaccounts:${ns}" "system:authenticated"]`;
    const user = `system:serviceaccount:${ns}:${carol}`;

    beforeAll(async () => {
      await c.ok('POST', '/api/v1/namespaces', { metadata: { name: esc } });
      token = await serviceAccountToken(carol);
      // carol administers the namespace (admin: its roles and bindings included), nothing more.
      await c.ok('POST', `${RBAC}/namespaces/${esc}/rolebindings`, {
        metadata: { name: 'carol-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        subjects: [{ kind: 'ServiceAccount', name: carol, namespace: ns }],
      });
      await c.ok('POST', `${RBAC}/clusterroles`, {
        metadata: { name: 'quota-admin' },
        rules: [{ apiGroups: [''], resources: ['resourcequotas'], verbs: ['*'] }],
      });
      await waitFor('carol’s admin binding to apply', async () =>
        (await canI(token, 33, 'create', 'roles.rbac.authorization.k8s.io', '-n', esc)) === 'yes'
          ? true
          : undefined,
      );
    });

    it.each(MINORS)(
      'kubectl 1.%i: roles and bindings within what one holds are made; beyond it refused, naming what is missing',
      async (minor) => {
        const made = await as(
          token,
          minor,
          'create',
          'role',
          `pod-reader-${minor}`,
          '-n',
          esc,
          '--verb=get,list',
          '--resource=pods',
        );
        expect(made.stderr).toBe('');
        expect(made.code).toBe(0);
        const bound = await as(
          token,
          minor,
          'create',
          'rolebinding',
          `bob-views-${minor}`,
          '-n',
          esc,
          '--clusterrole=view',
          `--serviceaccount=${ns}:bob`,
        );
        expect(bound.stderr).toBe('');
        expect(bound.code).toBe(0);

        const role = await as(
          token,
          minor,
          'create',
          'role',
          `quota-writer-${minor}`,
          '-n',
          esc,
          '--verb=create,delete',
          '--resource=resourcequotas',
        );
        expect(role.code).not.toBe(0);
        expect(role.stderr).toContain(
          `Error from server (Forbidden): roles.rbac.authorization.k8s.io "quota-writer-${minor}" is forbidden: user "${user}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["resourcequotas"], Verbs:["create" "delete"]}`,
        );
        const binding = await as(
          token,
          minor,
          'create',
          'rolebinding',
          `me-admin-${minor}`,
          '-n',
          esc,
          '--clusterrole=cluster-admin',
          `--serviceaccount=${ns}:${carol}`,
        );
        expect(binding.code).not.toBe(0);
        expect(binding.stderr).toContain(
          `rolebindings.rbac.authorization.k8s.io "me-admin-${minor}" is forbidden: user "${user}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`,
        );
        // Nothing refused was stored.
        expect((await c.api('GET', `${RBAC}/namespaces/${esc}/roles/quota-writer-${minor}`)).status).toBe(
          404,
        );
        expect((await c.api('GET', `${RBAC}/namespaces/${esc}/rolebindings/me-admin-${minor}`)).status).toBe(
          404,
        );
        // Widening a role one made is the same question as making it.
        const widened = await apiAs(token, 'PUT', `${RBAC}/namespaces/${esc}/roles/pod-reader-${minor}`, {
          metadata: { name: `pod-reader-${minor}` },
          rules: [
            { apiGroups: [''], resources: ['pods', 'resourcequotas'], verbs: ['get', 'list', 'update'] },
          ],
        });
        expect(widened.status).toBe(403);
        expect(widened.body.message).toContain(
          '{APIGroups:[""], Resources:["resourcequotas"], Verbs:["update"]}',
        );
      },
    );

    it('the bind verb on a role allows binding it, and escalate allows writing rules beyond one’s own', async () => {
      const bind = {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterroles'],
        resourceNames: ['quota-admin'],
        verbs: ['bind'],
      };
      await c.ok('POST', `${RBAC}/namespaces/${esc}/roles`, { metadata: { name: 'binder' }, rules: [bind] });
      await c.ok('POST', `${RBAC}/namespaces/${esc}/rolebindings`, {
        metadata: { name: 'binder' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'binder' },
        subjects: [{ kind: 'ServiceAccount', name: carol, namespace: ns }],
      });
      const quotaBinding = (name: string) => ({
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'quota-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'bob', namespace: ns }],
      });
      const made = await waitFor('carol to be allowed to bind quota-admin', async () => {
        const r = await apiAs<{ metadata: { resourceVersion: string } }>(
          token,
          'POST',
          `${RBAC}/namespaces/${esc}/rolebindings`,
          quotaBinding('quota-for-bob'),
        );
        return r.status === 201 ? r.body : undefined;
      });
      // The log says what allowed the write: the grant it was made under.
      const event = await c.server.app
        .get(ClusterConnections)
        .store.events.at(Number(made.metadata.resourceVersion));
      expect(event?.actor.authorizedBy).toBe(
        `RBAC: allowed by RoleBinding "carol-admin/${esc}" of ClusterRole "admin" to ServiceAccount "${carol}/${ns}"`,
      );
      // Only where the bind is granted: not in another namespace, not cluster-wide.
      expect(
        (await apiAs(token, 'POST', `${RBAC}/namespaces/${ns}/rolebindings`, quotaBinding('x'))).status,
      ).toBe(403);
      expect((await apiAs(token, 'POST', `${RBAC}/clusterrolebindings`, quotaBinding('x'))).status).toBe(403);

      await c.ok('POST', `${RBAC}/namespaces/${esc}/roles`, {
        metadata: { name: 'escalator' },
        rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }],
      });
      await c.ok('POST', `${RBAC}/namespaces/${esc}/rolebindings`, {
        metadata: { name: 'escalator' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'escalator' },
        subjects: [{ kind: 'ServiceAccount', name: carol, namespace: ns }],
      });
      const role = {
        metadata: { name: 'quota-writer' },
        rules: [{ apiGroups: [''], resources: ['resourcequotas'], verbs: ['create'] }],
      };
      await waitFor('carol to be allowed to escalate', async () =>
        (await apiAs(token, 'POST', `${RBAC}/namespaces/${esc}/roles`, role)).status === 201
          ? true
          : undefined,
      );
    });

    it('an aggregated ClusterRole needs cluster-admin’s authority', async () => {
      await c.ok('POST', `${RBAC}/clusterroles`, {
        metadata: { name: 'role-writer' },
        rules: [
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles'],
            verbs: ['create', 'update'],
          },
        ],
      });
      await c.ok('POST', `${RBAC}/clusterrolebindings`, {
        metadata: { name: 'carol-role-writer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'role-writer' },
        subjects: [{ kind: 'ServiceAccount', name: carol, namespace: ns }],
      });
      const aggregated = {
        metadata: { name: 'sum-of-all' },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate': 'true' } }] },
        rules: [],
      };
      const refused = await waitFor('carol to be allowed to write cluster roles', async () => {
        const r = await apiAs(token, 'POST', `${RBAC}/clusterroles`, aggregated);
        return r.body.message?.includes('aggregationRule') ? r : undefined;
      });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toBe(
        'clusterroles.rbac.authorization.k8s.io "sum-of-all" is forbidden: must have cluster-admin privileges to use the aggregationRule',
      );
      // A plain one within her rights is hers to make.
      const plain = await apiAs(token, 'POST', `${RBAC}/clusterroles`, {
        metadata: { name: 'cluster-role-reader' },
        rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['create'] }],
      });
      expect(plain.status).toBe(201);
    });
  });

  /**
   * What `kubectl auth can-i` answers a component that connects with the kubeconfig the server
   * wrote for it: each request in `allowed` is, each in `denied` is not (pairs name the request).
   */
  const expectCanI = async (
    kubeconfig: string,
    minor: number,
    allowed: string[][],
    denied: string[][],
  ): Promise<void> => {
    const can = async (args: string[]) =>
      (await c.kubectl(minor, ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...args])).stdout.trim();
    for (const args of allowed) expect([args.join(' '), await can(args)]).toEqual([args.join(' '), 'yes']);
    for (const args of denied) expect([args.join(' '), await can(args)]).toEqual([args.join(' '), 'no']);
  };

  it.each(MINORS)(
    'kubectl 1.%i: the scheduler runs as system:kube-scheduler, allowed what placing pods takes and nothing more',
    async (minor) => {
      const kubeconfig = c.componentKubeconfig('scheduler');
      expect(await readFile(kubeconfig, 'utf8')).toContain('current-context: system:kube-scheduler@wake');
      const scheduler = (...args: string[]) => c.kubectl(minor, ['--kubeconfig', kubeconfig, ...args]);
      const whoami = await scheduler('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
      expect(whoami.stdout).toBe('system:kube-scheduler');

      // Upstream's system:kube-scheduler and system:volume-scheduler roles.
      await expectCanI(
        kubeconfig,
        minor,
        [
          ['create', 'pods', '--subresource=binding', '-n', ns],
          ['patch', 'pods', '--subresource=status', '-n', ns],
          ['delete', 'pods', '-n', ns],
          ['list', 'nodes'],
          ['watch', 'persistentvolumes'],
          ['patch', 'persistentvolumeclaims', '-n', ns],
          ['create', 'events', '-n', ns],
          ['create', 'leases.coordination.k8s.io', '-n', 'kube-system'],
          ['update', 'leases.coordination.k8s.io/kube-scheduler', '-n', 'kube-system'],
        ],
        [
          ['get', 'secrets', '-n', ns],
          ['create', 'pods', '-n', ns],
          ['create', 'deployments.apps', '-n', ns],
          ['delete', 'namespaces'],
          ['update', 'nodes'],
          ['update', 'leases.coordination.k8s.io/kube-controller-manager', '-n', 'kube-system'],
          ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
        ],
      );

      const secrets = await scheduler('get', 'secrets', '-n', ns);
      expect(secrets.code).not.toBe(0);
      expect(secrets.stderr).toContain(
        `User "system:kube-scheduler" cannot list resource "secrets" in API group "" in the namespace "${ns}"`,
      );
    },
  );

  it('the service proxy runs as system:kube-proxy: Services, endpoints, its DNS and ingress reads and writes, nothing more', async () => {
    await expectCanI(
      c.componentKubeconfig('proxy'),
      33,
      [
        ['watch', 'services', '-A'],
        ['list', 'endpointslices.discovery.k8s.io', '-A'],
        ['get', 'nodes'],
        ['list', 'namespaces'],
        ['update', 'ingresses.networking.k8s.io', '--subresource=status', '-n', ns],
        ['create', 'ingressclasses.networking.k8s.io'],
        ['get', 'secrets', '-n', ns],
      ],
      [
        ['list', 'secrets', '-n', ns],
        ['update', 'ingresses.networking.k8s.io', '-n', ns],
        ['create', 'services', '-n', ns],
        ['delete', 'pods', '-n', ns],
        ['update', 'nodes'],
        ['create', 'pods', '--subresource=binding', '-n', ns],
      ],
    );
  });

  it('starts with the default policy, and puts back what was taken from an auto-updated role, not from one the operator owns', async () => {
    const role = (name: string) => c.ok<ClusterRole>('GET', `${RBAC}/clusterroles/${name}`);
    const admin = await role('cluster-admin');
    expect(admin.rules).toEqual([
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      { verbs: ['*'], nonResourceURLs: ['*'] },
    ]);
    expect(admin.metadata.labels).toEqual({ 'kubernetes.io/bootstrapping': 'rbac-defaults' });
    expect(admin.metadata.annotations).toEqual({ 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
    const binding = await c.ok<{ subjects: unknown[] }>('GET', `${RBAC}/clusterrolebindings/cluster-admin`);
    expect(binding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' },
    ]);
    const view = await role('view');
    expect(view.aggregationRule).toEqual({
      clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }],
    });
    expect(view.rules).toEqual((await role('system:aggregate-to-view')).rules);

    // The operator takes the self reviews from everyone, and owns system:discovery from now on.
    const basic = await role('system:basic-user');
    await c.ok('PUT', `${RBAC}/clusterroles/system:basic-user`, { ...basic, rules: [] });
    const discovery = await role('system:discovery');
    await c.ok('PUT', `${RBAC}/clusterroles/system:discovery`, {
      ...discovery,
      metadata: {
        ...discovery.metadata,
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' },
      },
      rules: [{ verbs: ['get'], nonResourceURLs: ['/version'] }],
    });
    // What the server does on its next start.
    await ensureBootstrapPolicy(c.server.app.get(ObjectService), c.server.app.get(ResourceRegistry));
    expect((await role('system:basic-user')).rules).toEqual(basic.rules);
    expect((await role('system:discovery')).rules).toEqual([
      { verbs: ['get'], nonResourceURLs: ['/version'] },
    ]);
  });

  it('refuses what RBAC must decide while a cache does not follow the log, and decides again once it is rebuilt; system:masters goes on', async () => {
    const caches = c.server.app.get(RbacCaches);
    const stopped = caches.all[3]!;
    await stopped.stop();
    // The first rebuild waits 800 ms: meanwhile RBAC refuses rather than decide on a stale cache.
    const configMaps = `/api/v1/namespaces/${ns}/configmaps`;
    const r = await apiAs(alice, 'GET', configMaps);
    expect(r.status).toBe(500);
    expect(r.body.message).toContain(
      'RBAC: the clusterrolebindings cache no longer follows the event log; authorization is refused until it is rebuilt',
    );
    expect((await c.api('GET', configMaps)).status).toBe(200);

    const decided = await waitFor('RBAC to decide again after the rebuild', async () => {
      const again = await apiAs(alice, 'GET', configMaps);
      return again.status === 500 ? undefined : again;
    });
    expect(decided.status).toBe(403);
    const rebuilt = caches.all[3]!;
    expect(rebuilt).not.toBe(stopped);
    expect(rebuilt.following).toBe(true);
    // The new cache follows the log: a binding made now grants at once.
    const dave = await serviceAccountToken('dave');
    expect(await canI(dave, 33, 'list', 'nodes')).toBe('no');
    await c.ok('POST', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'dave-views-nodes' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view-nodes' },
      subjects: [{ kind: 'ServiceAccount', name: 'dave', namespace: ns }],
    });
    await c.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'view-nodes' },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }],
    });
    await waitFor('the new binding to grant', async () =>
      (await canI(bob, 33, 'list', 'nodes')) === 'yes' ? true : undefined,
    );
  });
});
