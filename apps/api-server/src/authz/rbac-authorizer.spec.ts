import { describe, expect, it } from '@jest/globals';

import { type StoredObject } from '@app/event-store';

import { forbidden } from './forbidden.js';
import { type RequestAttributes } from './policy-rules.js';
import { RbacAuthorizer, type RbacObjects } from './rbac-authorizer.js';

const obj = (kind: string, name: string, namespace: string | undefined, rest: object): StoredObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: namespace ? { name, namespace } : { name },
  ...rest,
});

const read = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };

function world(objects: StoredObject[]): RbacObjects {
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    clusterRoleBindings: () => of('ClusterRoleBinding'),
    roleBindings: (ns) => of('RoleBinding').filter((o) => o.metadata.namespace === ns),
    clusterRole: (name) => of('ClusterRole').find((o) => o.metadata.name === name),
    role: (ns, name) => of('Role').find((o) => o.metadata.name === name && o.metadata.namespace === ns),
  };
}

const sa = {
  user: 'system:serviceaccount:team:app',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};

function listPods(namespace: string, who = sa): Extract<RequestAttributes, { resourceRequest: true }> {
  return {
    ...who,
    resourceRequest: true,
    verb: 'list',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'pods',
    subresource: '',
    namespace,
    name: '',
  };
}

describe('RbacAuthorizer', () => {
  const objects = world([
    obj('ClusterRole', 'pod-reader', undefined, { rules: [read] }),
    obj('Role', 'pod-reader', 'team', { rules: [read] }),
    obj('RoleBinding', 'app-reads', 'team', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'app' }],
    }),
    obj('RoleBinding', 'app-reads-cluster-role', 'shared', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'team' }],
    }),
    obj('ClusterRoleBinding', 'dangling', undefined, {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gone' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }],
    }),
  ]);
  const authz = new RbacAuthorizer(objects);

  it('allows through a RoleBinding in the namespace and says which', () => {
    expect(authz.authorize(listPods('team'))).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "app-reads/team" of Role "pod-reader" to ServiceAccount "app/team"',
    });
  });

  it('grants a ClusterRole bound by a RoleBinding in that namespace only', () => {
    expect(authz.authorize(listPods('shared')).allowed).toBe(true);
    expect(authz.authorize({ ...listPods('shared'), namespace: '' }).allowed).toBe(false);
    expect(authz.authorize(listPods('elsewhere')).allowed).toBe(false);
  });

  it('denies by default, naming what it could not resolve', () => {
    expect(authz.authorize(listPods('elsewhere'))).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
    });
    const stranger = { user: 'bob', groups: ['system:authenticated'] };
    expect(authz.authorize(listPods('team', stranger))).toEqual({ allowed: false, reason: '' });
  });

  it('lets system:masters do anything without a binding', () => {
    expect(authz.authorize(listPods('nowhere', { user: 'admin', groups: ['system:masters'] })).allowed).toBe(
      true,
    );
  });

  it('resolves the rules a user holds in a namespace (RulesFor)', () => {
    expect(authz.rulesFor(sa, 'team')).toEqual({
      rules: [read],
      errors: ['clusterrole.rbac.authorization.k8s.io "gone" not found'],
    });
  });
});

describe('forbidden (responsewriters.Forbidden)', () => {
  it('words a denied resource request as kubectl prints it', () => {
    const s = forbidden(listPods('team'), '').toStatus();
    expect(s).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message:
        'pods is forbidden: User "system:serviceaccount:team:app" cannot list resource "pods" in API group "" in the namespace "team"',
      details: { kind: 'pods' },
    });
  });

  it('qualifies the group, names the object and appends the reason', () => {
    const s = forbidden(
      {
        ...sa,
        resourceRequest: true,
        verb: 'update',
        apiGroup: 'apps',
        apiVersion: 'v1',
        resource: 'deployments',
        subresource: 'scale',
        namespace: '',
        name: 'web',
      },
      'RBAC: why',
    ).toStatus();
    expect(s.message).toBe(
      'deployments.apps "web" is forbidden: User "system:serviceaccount:team:app" cannot update resource "deployments/scale" in API group "apps" at the cluster scope: RBAC: why',
    );
    expect(s.details).toEqual({ kind: 'deployments', group: 'apps', name: 'web' });
  });

  it('words a denied path without a resource', () => {
    expect(
      forbidden({ user: 'bob', groups: [], resourceRequest: false, verb: 'get', path: '/metrics' }, '')
        .message,
    ).toBe('forbidden: User "bob" cannot get path "/metrics"');
  });
});
