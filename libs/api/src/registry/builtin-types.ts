import { type ResourceType, type SubresourceName } from './resource-type.js';

interface Entry {
  kind: string;
  plural?: string;
  cluster?: boolean;
  short?: string[];
  all?: boolean;
  sub?: SubresourceName[];
  storage?: ResourceType['storage'];
}

/** `Ingress` → `ingresses`, `Endpoints` → `endpoints`, `PriorityClass` → `priorityclasses`. */
function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('s')) return k.endsWith('ss') ? `${k}es` : k;
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

function group(groupName: string, version: string, entries: Entry[]): ResourceType[] {
  return entries.map((e) => ({
    group: groupName,
    version,
    kind: e.kind,
    plural: e.plural ?? pluralOf(e.kind),
    singular: e.kind.toLowerCase(),
    namespaced: !e.cluster,
    shortNames: e.short ?? [],
    categories: e.all ? ['all'] : [],
    subresources: e.sub ?? [],
    ...(e.storage ? { storage: e.storage } : {}),
  }));
}

/**
 * The built-in kinds, with upstream's short names and categories (kubernetes
 * `api/discovery/aggregated_v2.json`). Adding a kind is one entry here plus its rules
 * (defaults, printer columns) where it needs any.
 */
export const BUILTIN_TYPES: ResourceType[] = [
  ...group('', 'v1', [
    { kind: 'Namespace', cluster: true, short: ['ns'], sub: ['status'] },
    { kind: 'Node', cluster: true, short: ['no'], sub: ['status'] },
    {
      kind: 'Pod',
      short: ['po'],
      all: true,
      sub: ['status', 'binding', 'log', 'eviction', 'exec', 'attach', 'portforward', 'ephemeralcontainers'],
    },
    { kind: 'Service', short: ['svc'], all: true, sub: ['status'] },
    { kind: 'Endpoints', plural: 'endpoints', short: ['ep'] },
    { kind: 'ConfigMap', short: ['cm'] },
    { kind: 'Secret' },
    { kind: 'ServiceAccount', short: ['sa'], sub: ['token'] },
    { kind: 'Event', short: ['ev'] },
    { kind: 'PersistentVolume', cluster: true, short: ['pv'], sub: ['status'] },
    { kind: 'PersistentVolumeClaim', short: ['pvc'], sub: ['status'] },
    { kind: 'ReplicationController', short: ['rc'], all: true, sub: ['scale', 'status'] },
    { kind: 'LimitRange', short: ['limits'] },
    { kind: 'ResourceQuota', short: ['quota'], sub: ['status'] },
  ]),
  ...group('apps', 'v1', [
    { kind: 'Deployment', short: ['deploy'], all: true, sub: ['scale', 'status'] },
    { kind: 'ReplicaSet', short: ['rs'], all: true, sub: ['scale', 'status'] },
    { kind: 'StatefulSet', short: ['sts'], all: true, sub: ['scale', 'status'] },
    { kind: 'DaemonSet', short: ['ds'], all: true, sub: ['status'] },
    { kind: 'ControllerRevision' },
  ]),
  ...group('batch', 'v1', [
    { kind: 'Job', all: true, sub: ['status'] },
    { kind: 'CronJob', short: ['cj'], all: true, sub: ['status'] },
  ]),
  ...group('coordination.k8s.io', 'v1', [{ kind: 'Lease' }]),
  ...group('discovery.k8s.io', 'v1', [{ kind: 'EndpointSlice' }]),
  ...group('events.k8s.io', 'v1', [
    { kind: 'Event', short: ['ev'], storage: { group: '', resource: 'events' } },
  ]),
  ...group('rbac.authorization.k8s.io', 'v1', [
    { kind: 'Role' },
    { kind: 'RoleBinding' },
    { kind: 'ClusterRole', cluster: true },
    { kind: 'ClusterRoleBinding', cluster: true },
  ]),
  ...group('networking.k8s.io', 'v1', [
    { kind: 'Ingress', short: ['ing'], sub: ['status'] },
    { kind: 'IngressClass', cluster: true },
    // A Service's ClusterIP is claimed by creating the IPAddress named after it (upstream's
    // allocator since 1.33), so two Services can never hold one address.
    { kind: 'IPAddress', cluster: true, short: ['ip'] },
    { kind: 'ServiceCIDR', cluster: true, sub: ['status'] },
  ]),
  ...group('scheduling.k8s.io', 'v1', [{ kind: 'PriorityClass', cluster: true, short: ['pc'] }]),
  ...group('storage.k8s.io', 'v1', [{ kind: 'StorageClass', cluster: true, short: ['sc'] }]),
];
