import { describe, expect, it } from '@jest/globals';

import { ResourceRegistry } from '../registry/resource-registry.js';
import { ALL_VERBS } from '../registry/resource-type.js';
import {
  aggregatedDiscovery,
  apiGroupList,
  apiResourceList,
  type DiscoveredType,
  discoveryCatalog,
} from './discovery-documents.js';

const review = (over: Partial<DiscoveredType>): DiscoveredType => ({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SubjectAccessReview',
  plural: 'subjectaccessreviews',
  singular: 'subjectaccessreview',
  namespaced: false,
  shortNames: [],
  categories: [],
  subresources: [],
  verbs: ['create'],
  ...over,
});

describe('discoveryCatalog', () => {
  const registry = new ResourceRegistry();
  const catalog = discoveryCatalog(registry, [
    review({}),
    review({
      kind: 'LocalSubjectAccessReview',
      plural: 'localsubjectaccessreviews',
      singular: 'localsubjectaccessreview',
      namespaced: true,
    }),
    review({ group: 'rbac.authorization.k8s.io', kind: 'Extra', plural: 'extras' }),
  ]);

  it('adds the groups of kinds served outside the registry after the registry’s, once each', () => {
    const names = catalog.groups().map((g) => g.name);
    expect(names.slice(0, registry.groups().length)).toEqual(registry.groups().map((g) => g.name));
    expect(names.filter((n) => n === 'authorization.k8s.io')).toHaveLength(1);
    expect(names.filter((n) => n === 'rbac.authorization.k8s.io')).toHaveLength(1);
    expect(apiGroupList(catalog).groups.map((g) => g.name)).toEqual(names);
  });

  it('lists such kinds with their own verbs, and stored kinds with every verb', () => {
    const list = apiResourceList(catalog, 'authorization.k8s.io', 'v1');
    expect(list.groupVersion).toBe('authorization.k8s.io/v1');
    expect(list.resources).toEqual([
      {
        name: 'subjectaccessreviews',
        singularName: 'subjectaccessreview',
        namespaced: false,
        kind: 'SubjectAccessReview',
        verbs: ['create'],
      },
      {
        name: 'localsubjectaccessreviews',
        singularName: 'localsubjectaccessreview',
        namespaced: true,
        kind: 'LocalSubjectAccessReview',
        verbs: ['create'],
      },
    ]);
    const rbac = apiResourceList(catalog, 'rbac.authorization.k8s.io', 'v1').resources;
    expect(rbac.find((r) => r.name === 'roles')?.verbs).toEqual(ALL_VERBS);
    expect(rbac.at(-1)).toMatchObject({ name: 'extras', verbs: ['create'] });
  });

  it('puts them in aggregated discovery too', () => {
    const doc = aggregatedDiscovery(catalog, 'apis', 'v2');
    const authz = doc.items.find((g) => g.metadata.name === 'authorization.k8s.io');
    expect(authz?.versions[0].resources.map((r) => [r.resource, r.scope, r.verbs])).toEqual([
      ['subjectaccessreviews', 'Cluster', ['create']],
      ['localsubjectaccessreviews', 'Namespaced', ['create']],
    ]);
  });
});
