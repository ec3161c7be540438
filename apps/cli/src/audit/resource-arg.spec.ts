import { describe, expect, it } from '@jest/globals';

import { objectName, parseTarget, resolveResource, typeOfStored } from './resource-arg.js';

const resolved = (arg: string) => {
  const r = resolveResource(arg);
  return [r.type.group, r.type.kind, r.group, r.resource];
};

describe('resolving kubectl resource arguments', () => {
  it('takes plural, singular, short name and kind, in any case', () => {
    for (const arg of ['deployments', 'deployment', 'deploy', 'Deployment', 'DEPLOY'])
      expect(resolved(arg)).toEqual(['apps', 'Deployment', 'apps', 'deployments']);
    expect(resolved('po')).toEqual(['', 'Pod', '', 'pods']);
    expect(resolved('svc')).toEqual(['', 'Service', '', 'services']);
    expect(resolved('cm')).toEqual(['', 'ConfigMap', '', 'configmaps']);
    expect(resolved('no')).toEqual(['', 'Node', '', 'nodes']);
    expect(resolved('endpoints')).toEqual(['', 'Endpoints', '', 'endpoints']);
  });

  it('takes group-qualified names: resource.group and resource.version.group', () => {
    expect(resolved('deployments.apps')).toEqual(['apps', 'Deployment', 'apps', 'deployments']);
    expect(resolved('deployment.v1.apps')).toEqual(['apps', 'Deployment', 'apps', 'deployments']);
    expect(resolved('leases.coordination.k8s.io')).toEqual([
      'coordination.k8s.io',
      'Lease',
      'coordination.k8s.io',
      'leases',
    ]);
  });

  it('prefers the core group when two groups serve a name, and stores events.k8s.io Events with core ones', () => {
    expect(resolved('events')).toEqual(['', 'Event', '', 'events']);
    expect(resolved('ev')).toEqual(['', 'Event', '', 'events']);
    expect(resolved('events.events.k8s.io')).toEqual(['events.k8s.io', 'Event', '', 'events']);
  });

  it('refuses what the server does not serve, as kubectl does', () => {
    expect(() => resolveResource('widgets')).toThrow(`the server doesn't have a resource type "widgets"`);
    expect(() => resolveResource('deployments.batch')).toThrow(/doesn't have a resource type/);
  });

  it('reads TYPE/NAME and TYPE NAME', () => {
    expect(parseTarget(['deploy/web'])).toMatchObject({ resource: { resource: 'deployments' }, name: 'web' });
    expect(parseTarget(['po', 'web'])).toMatchObject({ resource: { resource: 'pods' }, name: 'web' });
    expect(parseTarget(['cm']).name).toBeUndefined();
    expect(() => parseTarget(['deploy/web', 'x'])).toThrow(/resource\/name form/);
    expect(() => parseTarget([])).toThrow(/type of resource/);
  });

  it('names objects as kubectl get -o name does', () => {
    expect(objectName(resolveResource('deploy').type, 'web')).toBe('deployment.apps/web');
    expect(objectName(resolveResource('po').type, 'web')).toBe('pod/web');
    expect(typeOfStored('', 'events')?.group).toBe('');
    expect(typeOfStored('apps', 'replicasets')?.kind).toBe('ReplicaSet');
  });
});
