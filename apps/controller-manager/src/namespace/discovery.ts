import { type ApiClient } from '@app/client';

/** One resource of a group-version as discovery lists it (metav1.APIResource, the fields used here). */
export interface DiscoveredResource {
  /** `v1` or `apps/v1`, as the APIResourceList's groupVersion says. */
  groupVersion: string;
  name: string;
  namespaced: boolean;
  verbs: string[];
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/**
 * client-go's ErrGroupDiscoveryFailed: some group-versions could not be read; what was read
 * is still returned beside it, and the namespace deleter works with that (discovery errors are
 * not fatal upstream).
 */
export class GroupDiscoveryFailedError extends Error {
  override name = 'GroupDiscoveryFailedError';

  constructor(readonly groups: Map<string, Error>) {
    const each = [...groups].map(([gv, e]) => `${gv}: ${e.message}`).sort();
    super(`unable to retrieve the complete list of server APIs: ${each.join(', ')}`);
  }
}

interface ApiGroupList {
  groups: {
    name: string;
    preferredVersion?: { groupVersion: string };
    versions: { groupVersion: string }[];
  }[];
}

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; namespaced: boolean; verbs: string[] }[];
}

/**
 * ServerPreferredNamespacedResources (client-go discovery/discovery_client.go): the namespaced
 * resources of the core group's v1 and of each group's preferred version, subresources left
 * out. A group-version that cannot be read is reported in a GroupDiscoveryFailedError beside
 * the resources that could.
 */
export async function serverPreferredNamespacedResources(
  api: ApiClient,
): Promise<{ resources: DiscoveredResource[]; error?: Error }> {
  const groups = await api.call<ApiGroupList>('GET', '/apis');
  const groupVersions = [
    'v1',
    ...groups.groups.map((g) => g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion),
  ].filter((gv): gv is string => !!gv);
  const failed = new Map<string, Error>();
  const lists = await Promise.all(
    groupVersions.map((gv) =>
      api
        .call<ApiResourceList>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`)
        .catch((e: unknown) => void failed.set(gv, e as Error)),
    ),
  );
  const resources = lists.flatMap((list, i) =>
    (list?.resources ?? [])
      .filter((r) => r.namespaced && !r.name.includes('/'))
      .map((r) => ({ groupVersion: list?.groupVersion ?? groupVersions[i], ...r })),
  );
  return { resources, error: failed.size ? new GroupDiscoveryFailedError(failed) : undefined };
}

/**
 * discovery.GroupVersionResources: each resource's group-version parsed; a resource whose
 * groupVersion does not parse is left out and named in the error.
 */
export function groupVersionResources(resources: DiscoveredResource[]): {
  gvrs: GroupVersionResource[];
  error?: Error;
} {
  const gvrs: GroupVersionResource[] = [];
  const bad: string[] = [];
  for (const r of resources) {
    const parts = r.groupVersion.split('/');
    if (parts.length > 2 || parts.some((p) => p === '')) {
      bad.push(`unexpected GroupVersion string: ${r.groupVersion}`);
      continue;
    }
    const [group, version] = parts.length === 1 ? ['', parts[0]] : parts;
    gvrs.push({ group, version, resource: r.name });
  }
  return { gvrs, error: bad.length ? new Error(bad.join(', ')) : undefined };
}

/** discovery.SupportsAllVerbs. */
export function supportsAllVerbs(r: DiscoveredResource, verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}
