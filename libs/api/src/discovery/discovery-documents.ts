import { type ResourceRegistry, type ServedGroup } from '../registry/resource-registry.js';
import { ALL_VERBS, type ResourceType, type SubresourceName } from '../registry/resource-type.js';

/**
 * A kind as discovery lists it: a stored kind of the registry (every verb), or one served by
 * a route of its own with the verbs it takes (the create-only reviews).
 */
export type DiscoveredType = Pick<
  ResourceType,
  | 'group'
  | 'version'
  | 'kind'
  | 'plural'
  | 'singular'
  | 'namespaced'
  | 'shortNames'
  | 'categories'
  | 'subresources'
> & { verbs?: string[] };

/** What discovery lists: the named groups, and the kinds of each group-version. */
export interface DiscoveryCatalog {
  groups(): ServedGroup[];
  inVersion(group: string, version: string): DiscoveredType[];
}

/** The registry's kinds and, after them, kinds served outside it (which it must not store). */
export function discoveryCatalog(registry: ResourceRegistry, served: DiscoveredType[]): DiscoveryCatalog {
  const groups = registry.groups();
  for (const t of served) {
    if (!t.group) continue;
    let g = groups.find((x) => x.name === t.group);
    if (!g) groups.push((g = { name: t.group, versions: [] }));
    if (!g.versions.includes(t.version)) g.versions.push(t.version);
  }
  return {
    groups: () => groups,
    inVersion: (group, version) => [
      ...registry.inVersion(group, version),
      ...served.filter((t) => t.group === group && t.version === version),
    ],
  };
}

/** The Kubernetes release Wake answers as: kubectl's dispatcher runs the kubectl of this minor. */
export const KUBERNETES_VERSION = { major: '1', minor: '33', patch: '0' } as const;

export function versionInfo(wakeVersion: string) {
  const git = `v${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}.${KUBERNETES_VERSION.patch}`;
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `${git}+wake.${wakeVersion}`,
    gitCommit: 'wake',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'wake',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

interface SubresourceShape {
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

/** What each subresource accepts and returns, as upstream's discovery states it. */
function subresourceShape(t: DiscoveredType, sub: SubresourceName): SubresourceShape {
  switch (sub) {
    case 'status':
    case 'ephemeralcontainers':
      return { group: t.group, version: t.version, kind: t.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'token':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    case 'exec':
      return { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach':
      return { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward':
      return { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
  }
}

/** Legacy `/api`. */
export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** Legacy `/apis`. */
export function apiGroupList(registry: DiscoveryCatalog) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map(apiGroup) };
}

/** Legacy `/apis/<group>`. */
export function apiGroup(g: { name: string; versions: string[] }) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions, preferredVersion: versions[0] };
}

/** Legacy `/api/v1` and `/apis/<group>/<version>`: one entry per resource and subresource. */
export function apiResourceList(registry: DiscoveryCatalog, group: string, version: string) {
  const resources = registry.inVersion(group, version).flatMap((t) => [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs ?? ALL_VERBS,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    },
    ...t.subresources.map((sub) => {
      const s = subresourceShape(t, sub);
      return {
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(s.group !== t.group ? { group: s.group } : {}),
        ...(s.version !== t.version || s.group !== t.group ? { version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      };
    }),
  ]);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

export type DiscoveryVersion = 'v2' | 'v2beta1';

/** The Content-Type that tells client-go a body is aggregated discovery (it checks g, v and as). */
export function aggregatedContentType(v: DiscoveryVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
}

/**
 * Which aggregated discovery format an Accept header asks for, in the client's order of
 * preference; undefined for the legacy documents. kubectl ≤ 1.29 only knows v2beta1.
 */
export function negotiateDiscovery(accept: string | undefined): DiscoveryVersion | undefined {
  for (const range of (accept ?? '').split(',')) {
    const params = new Map(
      range
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('g') !== 'apidiscovery.k8s.io' || params.get('as') !== 'APIGroupDiscoveryList') continue;
    const v = params.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

/** Aggregated `/api` (core) or `/apis` (every named group) in one document. */
export function aggregatedDiscovery(registry: DiscoveryCatalog, which: 'core' | 'apis', v: DiscoveryVersion) {
  const groups = which === 'core' ? [{ name: '', versions: ['v1'] }] : registry.groups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name },
      versions: g.versions.map((version) => ({
        version,
        freshness: 'Current',
        resources: registry.inVersion(g.name, version).map((t) => ({
          resource: t.plural,
          responseKind: { group: t.group, version: t.version, kind: t.kind },
          scope: t.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: t.singular,
          verbs: t.verbs ?? ALL_VERBS,
          ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
          ...(t.categories.length ? { categories: t.categories } : {}),
          subresources: t.subresources.map((sub) => {
            const s = subresourceShape(t, sub);
            return {
              subresource: sub,
              responseKind: { group: s.group, version: s.version, kind: s.kind },
              verbs: s.verbs,
            };
          }),
        })),
      })),
    })),
  };
}
