/**
 * The RBAC policy every cluster starts with, as upstream's bootstrap policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go and its testdata
 * cluster-roles.yaml, cluster-role-bindings.yaml): the roles users are bound to (cluster-admin,
 * admin, edit, view), the ones every client needs (discovery, self reviews, public health
 * paths) and the bindings that give those to the groups that need them. Data only.
 */
import { type PolicyRule, type Subject } from './policy-rules.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Roles and bindings with this annotation "true" get missing permissions added back on every start. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];

const CORE = '';
const APPS = 'apps';
const AUTHORIZATION = 'authorization.k8s.io';
const COORDINATION = 'coordination.k8s.io';
const STORAGE = 'storage.k8s.io';
const NETWORKING = 'networking.k8s.io';
const DISCOVERY = 'discovery.k8s.io';

/** What every component may do with Events: record them, and bump a repeated one's count. */
const RECORD_EVENTS = rule(['create', 'patch', 'update'], [CORE, 'events.k8s.io'], ['events']);

function rule(
  verbs: string[],
  apiGroups: string[],
  resources: string[],
  resourceNames?: string[],
): PolicyRule {
  return resourceNames ? { verbs, apiGroups, resources, resourceNames } : { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

export interface BootstrapClusterRole {
  name: string;
  labels?: Record<string, string>;
  /** Labels of the roles whose rules this one is the union of (ClusterRole aggregationRule). */
  aggregatesFrom?: Record<string, string>;
  rules: PolicyRule[];
}

export interface BootstrapClusterRoleBinding {
  name: string;
  role: string;
  subjects: Subject[];
}

const toAdmin = { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' };
const toEdit = { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' };
const toView = { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' };

export const BOOTSTRAP_CLUSTER_ROLES: BootstrapClusterRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  {
    name: 'system:discovery',
    rules: [
      urls(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
      ),
    ],
  },
  {
    name: 'system:public-info-viewer',
    rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])],
  },
  {
    name: 'system:basic-user',
    rules: [
      rule(['create'], [AUTHORIZATION], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  {
    name: 'system:monitoring',
    rules: [
      urls(
        ['get'],
        ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'],
      ),
    ],
  },
  {
    // The scheduler's own identity (the user system:kube-scheduler): what it reads to place pods
    // and the writes placing them takes: bindings, status, preemption, its lease and Events.
    name: 'system:kube-scheduler',
    rules: [
      RECORD_EVENTS,
      rule(['create'], [COORDINATION], ['leases']),
      rule(['get', 'update'], [COORDINATION], ['leases'], ['kube-scheduler']),
      rule(READ, [CORE], ['nodes']),
      rule(['delete', ...READ], [CORE], ['pods']),
      rule(['create'], [CORE], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(READ, [CORE], ['replicationcontrollers', 'services']),
      rule(READ, [APPS, 'extensions'], ['replicasets']),
      rule(READ, [APPS], ['statefulsets']),
      rule(READ, ['policy'], ['poddisruptionbudgets']),
      rule(READ, [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], [AUTHORIZATION], ['subjectaccessreviews']),
      rule(READ, [STORAGE], ['csinodes']),
      rule(READ, [CORE], ['namespaces']),
      rule(READ, [STORAGE], ['csidrivers']),
      rule(READ, [STORAGE], ['csistoragecapacities']),
    ],
  },
  {
    // Volume binding at scheduling time: the claim's selected node, and a volume's pre-binding.
    name: 'system:volume-scheduler',
    rules: [
      rule([...READ, 'patch', 'update'], [CORE], ['persistentvolumes']),
      rule(READ, [STORAGE], ['storageclasses']),
      rule([...READ, 'patch', 'update'], [CORE], ['persistentvolumeclaims']),
    ],
  },
  {
    // kube-proxy's (the user system:kube-proxy): Services, their endpoints, the nodes, Events.
    name: 'system:node-proxier',
    rules: [
      rule(['list', 'watch'], [CORE], ['endpoints', 'services']),
      rule(READ, [CORE], ['nodes']),
      RECORD_EVENTS,
      rule(['list', 'watch'], [DISCOVERY], ['endpointslices']),
    ],
  },
  {
    // The cluster DNS Wake's proxy serves, as CoreDNS's role: Services and their endpoints by namespace.
    name: 'system:wake:cluster-dns',
    rules: [
      rule(['list', 'watch'], [CORE], ['endpoints', 'namespaces', 'services']),
      rule(['list', 'watch'], [DISCOVERY], ['endpointslices']),
    ],
  },
  {
    // The ingress controller Wake's proxy runs: Ingresses and their status, its IngressClass
    // (created when the cluster has none for it), the backends, and the TLS Secrets Ingresses name.
    name: 'system:wake:ingress-controller',
    rules: [
      rule(READ, [NETWORKING], ['ingressclasses', 'ingresses']),
      rule(['patch', 'update'], [NETWORKING], ['ingresses/status']),
      rule(['create'], [NETWORKING], ['ingressclasses']),
      rule(READ, [CORE], ['services']),
      rule(READ, [DISCOVERY], ['endpointslices']),
      rule(['get'], [CORE], ['secrets']),
    ],
  },
  { name: 'admin', aggregatesFrom: toAdmin, rules: [] },
  { name: 'edit', labels: toAdmin, aggregatesFrom: toEdit, rules: [] },
  { name: 'view', labels: toEdit, aggregatesFrom: toView, rules: [] },
  {
    name: 'system:aggregate-to-admin',
    labels: toAdmin,
    rules: [
      rule(['create'], [AUTHORIZATION], ['localsubjectaccessreviews']),
      rule(READ_WRITE, [RBAC_GROUP], ['rolebindings', 'roles']),
    ],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: toEdit,
    rules: [
      rule(
        READ,
        [CORE],
        ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'],
      ),
      rule(['impersonate'], [CORE], ['serviceaccounts']),
      rule(WRITE, [CORE], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      rule(['create'], [CORE], ['pods/eviction']),
      rule(
        WRITE,
        [CORE],
        [
          'configmaps',
          'events',
          'persistentvolumeclaims',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'secrets',
          'serviceaccounts',
          'services',
          'services/proxy',
        ],
      ),
      rule(['create'], [CORE], ['serviceaccounts/token']),
      rule(
        WRITE,
        [APPS],
        [
          'daemonsets',
          'deployments',
          'deployments/rollback',
          'deployments/scale',
          'replicasets',
          'replicasets/scale',
          'statefulsets',
          'statefulsets/scale',
        ],
      ),
      rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
      rule(WRITE, ['policy'], ['poddisruptionbudgets']),
      rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: toView,
    rules: [
      rule(
        READ,
        [CORE],
        [
          'configmaps',
          'endpoints',
          'persistentvolumeclaims',
          'persistentvolumeclaims/status',
          'pods',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'serviceaccounts',
          'services',
          'services/status',
        ],
      ),
      rule(
        READ,
        [CORE],
        [
          'bindings',
          'events',
          'limitranges',
          'namespaces/status',
          'pods/log',
          'pods/status',
          'replicationcontrollers/status',
          'resourcequotas',
          'resourcequotas/status',
        ],
      ),
      rule(READ, [CORE], ['namespaces']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(
        READ,
        [APPS],
        [
          'controllerrevisions',
          'daemonsets',
          'daemonsets/status',
          'deployments',
          'deployments/scale',
          'deployments/status',
          'replicasets',
          'replicasets/scale',
          'replicasets/status',
          'statefulsets',
          'statefulsets/scale',
          'statefulsets/status',
        ],
      ),
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ],
  },
];

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: BootstrapClusterRoleBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [group('system:masters')] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [group('system:authenticated')] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [group('system:authenticated')] },
  {
    name: 'system:public-info-viewer',
    role: 'system:public-info-viewer',
    subjects: [group('system:authenticated'), group('system:unauthenticated')],
  },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [group('system:monitoring')] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [user('system:kube-scheduler')] },
  {
    name: 'system:volume-scheduler',
    role: 'system:volume-scheduler',
    subjects: [user('system:kube-scheduler')],
  },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: [user('system:kube-proxy')] },
  { name: 'system:wake:cluster-dns', role: 'system:wake:cluster-dns', subjects: [user('system:kube-proxy')] },
  {
    name: 'system:wake:ingress-controller',
    role: 'system:wake:ingress-controller',
    subjects: [user('system:kube-proxy')],
  },
  // The controller manager's own user, so that the log names it as the author of what its
  // controllers write. Bound to cluster-admin for now: upstream narrows each controller to its
  // system:controller:<name> role (run under its own service account), which Wake's controllers
  // have not been fitted to yet. Unlike the admin's token it was given before, this user is not
  // in system:masters, so RBAC is consulted for it and an operator can narrow the binding.
  {
    name: 'system:wake:kube-controller-manager',
    role: 'cluster-admin',
    subjects: [user('system:kube-controller-manager')],
  },
];
