import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

type Status = {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { causes?: unknown[] };
};

/**
 * `kubectl auth can-i` and `kubectl auth whoami` against a real API server: the reviews a
 * client makes of itself (SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview),
 * answered by RBAC for the admin (system:masters, bound to cluster-admin), never stored; what
 * they refuse. What RBAC answers other users is rbac.int-spec.ts's.
 */
describe('self reviews: kubectl auth can-i and whoami', () => {
  let c: ApiCluster;
  const MINORS = [29, 33];

  beforeAll(async () => {
    c = await startApiCluster();
  });
  afterAll(async () => {
    await c?.close();
  });

  const kubectl = async (minor: number, ...args: string[]) => {
    const r = await c.kubectl(minor, args);
    if (r.code !== 0) throw new Error(`kubectl 1.${minor} ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  /** The log head: a review must not move it. */
  const head = async () =>
    (await c.api<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces?limit=1')).body
      .metadata.resourceVersion;

  it.each(MINORS)('kubectl 1.%i auth can-i says yes, for resources and non-resource URLs', async (minor) => {
    expect((await kubectl(minor, 'auth', 'can-i', 'create', 'pods')).trim()).toBe('yes');
    expect(
      (await kubectl(minor, 'auth', 'can-i', 'delete', 'deployments.apps', '-n', 'kube-system')).trim(),
    ).toBe('yes');
    expect((await kubectl(minor, 'auth', 'can-i', 'get', '/healthz')).trim()).toBe('yes');
  });

  it.each(MINORS)('kubectl 1.%i auth can-i --list shows every verb on every resource', async (minor) => {
    const rows = (await kubectl(minor, 'auth', 'can-i', '--list')).split('\n');
    expect(rows[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    expect(rows).toContainEqual(expect.stringMatching(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/));
    expect(rows).toContainEqual(expect.stringMatching(/^\s+\[\*\]\s+\[\]\s+\[\*\]/));
  });

  it.each(MINORS)(
    'kubectl 1.%i auth whoami names the admin, and a service account by its token',
    async (minor) => {
      const me = JSON.parse(await kubectl(minor, 'auth', 'whoami', '-o', 'json')) as {
        kind: string;
        status: { userInfo: { username: string; groups: string[] } };
      };
      expect(me.kind).toBe('SelfSubjectReview');
      expect(me.status.userInfo).toMatchObject({
        username: 'admin',
        groups: ['system:masters', 'system:authenticated'],
      });

      await waitFor('the default service account', async () =>
        (await c.api('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200
          ? true
          : undefined,
      );
      const token = (await kubectl(minor, 'create', 'token', 'default')).trim();
      const table = await kubectl(minor, 'auth', 'whoami', '--token', token);
      expect(table).toMatch(/Username\s+system:serviceaccount:default:default/);
      expect(table).toMatch(
        /Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]/,
      );
    },
  );

  it('answers without storing anything: the log head stays where it was', async () => {
    const before = await head();
    const r = await c.api<{ status: { allowed: boolean }; metadata: Record<string, unknown> }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'list', resource: 'secrets', namespace: 'default' } },
      },
    );
    expect(r.status).toBe(201);
    expect(r.body.status).toEqual({ allowed: true });
    expect(r.body.metadata).toEqual({ creationTimestamp: null });
    expect(await head()).toBe(before);
  });

  it('refuses a review with neither or both kinds of attributes (422 at the field), a GET (405), another kind (400)', async () => {
    const sar = (spec: unknown, kind = 'SelfSubjectAccessReview') =>
      c.api<Status>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind,
        spec,
      });
    const neither = await sar({});
    expect(neither.status).toBe(422);
    expect(neither.body).toMatchObject({
      reason: 'Invalid',
      details: {
        kind: 'SelfSubjectAccessReview',
        group: 'authorization.k8s.io',
        causes: [{ field: 'spec.resourceAttributes', reason: 'FieldValueInvalid' }],
      },
    });
    expect(neither.body.message).toContain('exactly one of nonResourceAttributes or resourceAttributes');
    const both = await sar({
      resourceAttributes: { verb: 'get' },
      nonResourceAttributes: { path: '/x', verb: 'get' },
    });
    expect(both.status).toBe(422);
    expect(both.body.details?.causes).toEqual([
      expect.objectContaining({ field: 'spec.nonResourceAttributes' }),
    ]);
    const other = await sar({ resourceAttributes: { verb: 'get' } }, 'SubjectAccessReview');
    expect(other.status).toBe(400);
    expect(other.body.reason).toBe('BadRequest');
    const get = await c.api<Status>('GET', '/apis/authentication.k8s.io/v1/selfsubjectreviews');
    expect(get.status).toBe(405);
    expect(get.body.reason).toBe('MethodNotAllowed');
  });
});
