import { parseArgs } from 'node:util';

import { type StoredObject } from '@app/event-store';

import { type RequestAttributes } from '../apps/api-server/src/authz/policy-rules.js';
import { RbacAuthorizer, type RbacObjects } from '../apps/api-server/src/authz/rbac-authorizer.js';
import { requestAttributes } from '../apps/api-server/src/authz/request-attributes.js';

import { writeResult, table } from './lib/report.js';
import { microseconds, round } from './lib/stats.js';

export const description =
  'the CPU each request spends on RBAC (no I/O): reading its attributes, then the decision';

const HELP = `npm run bench -- authz [options]

The CPU the API server spends authorizing one request, in this process, with no I/O: reading
the request's attributes from its method and URL, then RBAC's decision over in-memory roles and
bindings. The policy: --namespaces namespaces, each with --bindings RoleBindings (each to a Role
of 5 rules, 2 subjects), and --cluster-bindings ClusterRoleBindings (each to a ClusterRole of 5
rules), besides the default policy's 5. Decisions measured: system:masters (exempt), a service
account allowed by the last binding of its namespace, one allowed by a cluster binding, and one
denied (every binding read). RBAC reads the cluster bindings and the request namespace's, so the
cost grows with those, not with the number of namespaces.

  --namespaces N         (default 100)
  --bindings N           RoleBindings per namespace (default 10)
  --cluster-bindings N   (default 50)
  --seconds S            time per measurement (default 2); each run 5 times, the median reported
  --help                 this text`;

const GROUP = 'rbac.authorization.k8s.io';
const RESOURCES = ['pods', 'services', 'configmaps', 'deployments', 'jobs'];

function policy(namespaces: number, bindings: number, clusterBindings: number): RbacObjects {
  const rules = (prefix: string) =>
    RESOURCES.map((r) => ({
      verbs: ['get', 'list', 'watch'],
      apiGroups: [''],
      resources: [`${prefix}${r}`],
    }));
  const obj = (kind: string, name: string, namespace: string | undefined, rest: object): StoredObject => ({
    apiVersion: `${GROUP}/v1`,
    kind,
    metadata: namespace ? { name, namespace } : { name },
    ...rest,
  });
  const roles = new Map<string, StoredObject>();
  const roleBindings = new Map<string, StoredObject[]>();
  for (let n = 0; n < namespaces; n++) {
    const ns = `ns-${n}`;
    const list: StoredObject[] = [];
    for (let b = 0; b < bindings; b++) {
      // The last binding of a namespace grants the real resources; the others, names no request asks for.
      roles.set(
        `${ns}/role-${b}`,
        obj('Role', `role-${b}`, ns, { rules: rules(b === bindings - 1 ? '' : `x${b}-`) }),
      );
      list.push(
        obj('RoleBinding', `binding-${b}`, ns, {
          roleRef: { apiGroup: GROUP, kind: 'Role', name: `role-${b}` },
          subjects: [
            { kind: 'ServiceAccount', name: `app-${b}` },
            { kind: 'ServiceAccount', name: 'reader' },
          ],
        }),
      );
    }
    roleBindings.set(ns, list);
  }
  const clusterRoles = new Map<string, StoredObject>();
  const clusterRoleBindings: StoredObject[] = [];
  for (let b = 0; b < clusterBindings; b++) {
    clusterRoles.set(
      `cluster-role-${b}`,
      obj('ClusterRole', `cluster-role-${b}`, undefined, { rules: rules(`c${b}-`) }),
    );
    clusterRoleBindings.push(
      obj('ClusterRoleBinding', `cluster-binding-${b}`, undefined, {
        roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: `cluster-role-${b}` },
        subjects: [{ kind: 'ServiceAccount', name: `operator-${b}`, namespace: 'ops' }],
      }),
    );
  }
  // The default policy's bindings every request passes first.
  for (const [name, group] of [
    ['cluster-admin', 'system:masters'],
    ['system:discovery', 'system:authenticated'],
    ['system:basic-user', 'system:authenticated'],
    ['system:public-info-viewer', 'system:authenticated'],
    ['system:monitoring', 'system:monitoring'],
  ]) {
    clusterRoles.set(
      name,
      obj('ClusterRole', name, undefined, { rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] }),
    );
    clusterRoleBindings.unshift(
      obj('ClusterRoleBinding', name, undefined, {
        roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name },
        subjects: [{ kind: 'Group', apiGroup: GROUP, name: group }],
      }),
    );
  }
  return {
    clusterRoleBindings: () => clusterRoleBindings,
    roleBindings: (ns) => roleBindings.get(ns) ?? [],
    clusterRole: (name) => clusterRoles.get(name),
    role: (ns, name) => roles.get(`${ns}/${name}`),
  };
}

const sa = (ns: string, name: string) => ({
  user: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
});

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      namespaces: { type: 'string' },
      bindings: { type: 'string' },
      'cluster-bindings': { type: 'string' },
      seconds: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const namespaces = Number(values.namespaces ?? 100);
  const bindings = Number(values.bindings ?? 10);
  const clusterBindings = Number(values['cluster-bindings'] ?? 50);
  const seconds = Number(values.seconds ?? 2);
  if (![namespaces, bindings, clusterBindings].every((n) => Number.isInteger(n) && n >= 1) || !(seconds > 0))
    throw new RangeError(
      '--namespaces, --bindings and --cluster-bindings are whole numbers ≥ 1, --seconds positive',
    );

  const authorizer = new RbacAuthorizer(policy(namespaces, bindings, clusterBindings));
  const ns = `ns-${namespaces - 1}`;
  const url = `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb&limit=500`;
  const cases: { measure: string; who: RequestAttributes; allowed: boolean }[] = [
    {
      measure: 'system:masters (exempt)',
      who: requestAttributes(
        { user: 'admin', groups: ['system:masters', 'system:authenticated'] },
        'GET',
        url,
      ),
      allowed: true,
    },
    {
      measure: `allowed by its namespace's binding ${bindings} of ${bindings}`,
      who: requestAttributes(sa(ns, 'reader'), 'GET', url),
      allowed: true,
    },
    {
      measure: `allowed by cluster binding ${clusterBindings} of ${clusterBindings + 5}`,
      who: requestAttributes(
        sa('ops', `operator-${clusterBindings - 1}`),
        'GET',
        url.replace('/pods', `/c${clusterBindings - 1}-pods`),
      ),
      allowed: true,
    },
    {
      measure: 'denied (every binding read)',
      who: requestAttributes(sa(ns, 'stranger'), 'GET', url),
      allowed: false,
    },
  ];
  for (const c of cases)
    if (authorizer.authorize(c.who).allowed !== c.allowed)
      throw new Error(`bench policy is wrong for: ${c.measure}`);

  const parse = microseconds(() => (requestAttributes(sa(ns, 'reader'), 'GET', url), 1), seconds);
  const rows = cases.map((c) => ({
    measure: c.measure,
    µs: round(
      microseconds(() => (authorizer.authorize(c.who), 1), seconds),
      3,
    ),
  }));
  const result = {
    policy: { namespaces, roleBindingsPerNamespace: bindings, clusterRoleBindings: clusterBindings + 5 },
    attributesMicroseconds: round(parse, 3),
    decisionMicroseconds: Object.fromEntries(rows.map((r) => [r.measure, r.µs])),
  };
  console.log(
    `\nRBAC per request (this process, no I/O): ${namespaces} namespaces × ${bindings} RoleBindings, ${clusterBindings + 5} ClusterRoleBindings\n`,
  );
  console.log(
    table([
      { measure: 'request attributes from method and URL', µs: result.attributesMicroseconds },
      ...rows,
    ]),
  );
  console.log(`\nwritten: ${await writeResult('authz', result)}`);
}
