import { describe, expect, it } from '@jest/globals';

import { ResourceRegistry, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type AdmissionRequest } from '../admission/admission-plugin.js';
import { RbacEscalationCheck } from './escalation-check.js';
import { RbacAuthorizer, type RbacObjects } from './rbac-authorizer.js';

const GROUP = 'rbac.authorization.k8s.io';
const registry = new ResourceRegistry();
const type = (plural: string) => registry.get(GROUP, 'v1', plural);

const obj = (kind: string, name: string, namespace: string | undefined, rest: object): StoredObject => ({
  apiVersion: `${GROUP}/v1`,
  kind,
  metadata: namespace ? { name, namespace } : { name },
  ...rest,
});
const ref = (kind: string, name: string) => ({ apiGroup: GROUP, kind, name });
const dev = { kind: 'User', name: 'dev' };

const pods = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
const secrets = { verbs: ['get'], apiGroups: [''], resources: ['secrets'] };

/** dev may write roles and bindings in `team` and read pods there; `binder` may bind `secret-reader`. */
function check(extra: StoredObject[] = []): RbacEscalationCheck {
  const objects = [
    obj('Role', 'rbac-and-pods', 'team', {
      rules: [
        pods,
        { verbs: ['create', 'update'], apiGroups: [GROUP], resources: ['roles', 'rolebindings'] },
      ],
    }),
    obj('RoleBinding', 'dev', 'team', { roleRef: ref('Role', 'rbac-and-pods'), subjects: [dev] }),
    obj('ClusterRole', 'secret-reader', undefined, { rules: [secrets] }),
    ...extra,
  ];
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const world: RbacObjects = {
    clusterRoleBindings: () => of('ClusterRoleBinding'),
    roleBindings: (ns) => of('RoleBinding').filter((o) => o.metadata.namespace === ns),
    clusterRole: (name) => of('ClusterRole').find((o) => o.metadata.name === name),
    role: (ns, name) => of('Role').find((o) => o.metadata.name === name && o.metadata.namespace === ns),
  };
  return new RbacEscalationCheck(new RbacAuthorizer(world));
}

function request(plural: string, object: StoredObject, o: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    operation: 'create',
    type: type(plural),
    namespace: String(object.metadata.namespace ?? ''),
    object,
    actor: { user: 'dev', groups: ['devs', 'system:authenticated'] },
    ...o,
  };
}

async function refusal(p: Promise<void>): Promise<StatusError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof StatusError)) throw new Error(`expected a StatusError, got ${String(e)}`);
  return e;
}

describe('RbacEscalationCheck', () => {
  it('lets a role through when its rules are held where it applies', async () => {
    await check().admit(request('roles', obj('Role', 'r', 'team', { rules: [{ ...pods, verbs: ['get'] }] })));
  });

  it('refuses a role beyond what is held, listing the missing rights as upstream prints them', async () => {
    const e = await refusal(
      check().admit(
        request(
          'roles',
          obj('Role', 'r', 'team', { rules: [{ ...pods, verbs: ['get', 'delete'] }, secrets] }),
        ),
      ),
    );
    expect(e.code).toBe(403);
    expect(e.message).toBe(
      'roles.rbac.authorization.k8s.io "r" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) ' +
        'is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
  });

  it('holds rights only in their namespace: the same role elsewhere is refused', async () => {
    const e = await refusal(check().admit(request('roles', obj('Role', 'r', 'other', { rules: [pods] }))));
    expect(e.message).toContain('is attempting to grant RBAC permissions not currently held');
  });

  it('exempts system:masters, the escalate verb, and updates of owner references and finalizers only', async () => {
    const wide = obj('Role', 'r', 'team', { rules: [secrets] });
    await check().admit(request('roles', wide, { actor: { user: 'root', groups: ['system:masters'] } }));
    const escalator = [
      obj('Role', 'escalate', 'team', {
        rules: [{ verbs: ['escalate'], apiGroups: [GROUP], resources: ['roles'] }],
      }),
      obj('RoleBinding', 'escalate', 'team', { roleRef: ref('Role', 'escalate'), subjects: [dev] }),
    ];
    await check(escalator).admit(request('roles', wide));
    const owned = { ...wide, metadata: { ...wide.metadata, finalizers: ['example.com/keep'] } };
    await check().admit(request('roles', owned, { operation: 'update', old: wide }));
    await expect(
      check().admit(
        request(
          'roles',
          { ...owned, metadata: { ...owned.metadata, labels: { a: 'b' } } },
          {
            operation: 'update',
            old: wide,
          },
        ),
      ),
    ).rejects.toThrow('not currently held');
  });

  it('asks cluster-admin’s authority of an aggregated ClusterRole, on create and when an update drops the rule', async () => {
    const writer = [
      obj('ClusterRole', 'writer', undefined, {
        rules: [{ verbs: ['create', 'update'], apiGroups: [GROUP], resources: ['clusterroles'] }],
      }),
      obj('ClusterRoleBinding', 'writer', undefined, {
        roleRef: ref('ClusterRole', 'writer'),
        subjects: [dev],
      }),
    ];
    const aggregated = obj('ClusterRole', 'sum', undefined, {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] },
      rules: [],
    });
    const e = await refusal(check(writer).admit(request('clusterroles', aggregated)));
    expect(e.message).toBe(
      'clusterroles.rbac.authorization.k8s.io "sum" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    );
    const plain = obj('ClusterRole', 'sum', undefined, { rules: [] });
    await expect(
      check(writer).admit(request('clusterroles', plain, { operation: 'update', old: aggregated })),
    ).rejects.toThrow('aggregationRule');
    await check(writer).admit(request('clusterroles', plain));
  });

  it('lets a binding through with the bound role’s rights held, or with bind on that very role', async () => {
    const toPods = obj('RoleBinding', 'b', 'team', {
      roleRef: ref('Role', 'rbac-and-pods'),
      subjects: [dev],
    });
    await check().admit(request('rolebindings', toPods));
    const toSecrets = obj('RoleBinding', 'b', 'team', {
      roleRef: ref('ClusterRole', 'secret-reader'),
      subjects: [dev],
    });
    const e = await refusal(check().admit(request('rolebindings', toSecrets)));
    expect(e.message).toContain(
      'rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    const binder = (resourceNames: string[]) => [
      obj('Role', 'binder', 'team', {
        rules: [{ verbs: ['bind'], apiGroups: [GROUP], resources: ['clusterroles'], resourceNames }],
      }),
      obj('RoleBinding', 'binder', 'team', { roleRef: ref('Role', 'binder'), subjects: [dev] }),
    ];
    await check(binder(['secret-reader'])).admit(request('rolebindings', toSecrets));
    await expect(check(binder(['other'])).admit(request('rolebindings', toSecrets))).rejects.toThrow(
      'not currently held',
    );
  });

  it('refuses a binding to a role that does not exist, with the lookup’s error', async () => {
    const dangling = obj('ClusterRoleBinding', 'b', undefined, {
      roleRef: ref('ClusterRole', 'gone'),
      subjects: [dev],
    });
    const e = await refusal(check().admit(request('clusterrolebindings', dangling)));
    expect(e.message).toBe(
      'clusterrolebindings.rbac.authorization.k8s.io "b" is forbidden: clusterrole.rbac.authorization.k8s.io "gone" not found',
    );
  });

  it('leaves other kinds and deletes alone', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'team' } };
    await check().admit({ ...request('roles', cm), type: registry.get('', 'v1', 'configmaps') });
    const wide = obj('Role', 'r', 'team', { rules: [secrets] });
    await check().admit(request('roles', wide, { operation: 'delete', object: undefined, old: wide }));
  });
});
