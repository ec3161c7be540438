import { describe, expect, it } from '@jest/globals';

import {
  appliesTo,
  compactRules,
  compactString,
  covers,
  type PolicyRule,
  type RequestAttributes,
  ruleAllows,
} from './policy-rules.js';

const who = { user: 'jane', groups: ['dev', 'system:authenticated'] };

function resource(verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes {
  return {
    ...who,
    resourceRequest: true,
    verb,
    apiGroup: '',
    apiVersion: 'v1',
    resource,
    subresource: '',
    namespace: 'default',
    name: '',
    ...extra,
  } as RequestAttributes;
}

describe('ruleAllows (rbac.RuleAllows)', () => {
  const read: PolicyRule = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };

  it('needs the verb, the group and the resource to match', () => {
    expect(ruleAllows(resource('list', 'pods'), read)).toBe(true);
    expect(ruleAllows(resource('delete', 'pods'), read)).toBe(false);
    expect(ruleAllows(resource('list', 'pods', { apiGroup: 'apps' }), read)).toBe(false);
    expect(ruleAllows(resource('list', 'services'), read)).toBe(false);
  });

  it('matches a subresource only as resource/subresource, */subresource or *', () => {
    const log = resource('get', 'pods', { subresource: 'log', name: 'p' });
    expect(ruleAllows(log, read)).toBe(false);
    expect(ruleAllows(log, { ...read, resources: ['pods/log'] })).toBe(true);
    expect(ruleAllows(log, { ...read, resources: ['*/log'] })).toBe(true);
    expect(ruleAllows(log, { ...read, resources: ['*/status'] })).toBe(false);
    expect(ruleAllows(log, { ...read, resources: ['*/catalog'] })).toBe(false);
    expect(ruleAllows(log, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] })).toBe(true);
  });

  it('restricts by resourceNames only requests that carry a name', () => {
    const named: PolicyRule = { ...read, resourceNames: ['web'] };
    expect(ruleAllows(resource('get', 'pods', { name: 'web' }), named)).toBe(true);
    expect(ruleAllows(resource('get', 'pods', { name: 'db' }), named)).toBe(false);
    // A list names nothing, so a rule with names never allows it.
    expect(ruleAllows(resource('list', 'pods'), named)).toBe(false);
  });

  it('matches non-resource URLs exactly or by a trailing * glob', () => {
    const path = (p: string): RequestAttributes => ({ ...who, resourceRequest: false, verb: 'get', path: p });
    const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(path('/healthz'), rule)).toBe(true);
    expect(ruleAllows(path('/healthz/etcd'), rule)).toBe(false);
    expect(ruleAllows(path('/apis/apps/v1'), rule)).toBe(true);
    expect(ruleAllows(path('/api'), rule)).toBe(false);
    expect(ruleAllows(path('/api'), { verbs: ['*'], nonResourceURLs: ['*'] })).toBe(true);
    // A resource rule never allows a path, nor a URL rule a resource.
    expect(ruleAllows(path('/healthz'), read)).toBe(false);
    expect(ruleAllows(resource('get', 'pods'), rule)).toBe(false);
  });
});

describe('appliesTo (rbac appliesToUser)', () => {
  const sa = { user: 'system:serviceaccount:team:builder', groups: ['system:serviceaccounts'] };

  it('matches users by name and groups by membership', () => {
    expect(appliesTo({ kind: 'User', name: 'jane' }, who, '')).toBe(true);
    expect(appliesTo({ kind: 'User', name: 'dev' }, who, '')).toBe(false);
    expect(appliesTo({ kind: 'Group', name: 'dev' }, who, '')).toBe(true);
  });

  it('takes a service account without a namespace to be in the binding’s namespace', () => {
    expect(appliesTo({ kind: 'ServiceAccount', name: 'builder' }, sa, 'team')).toBe(true);
    expect(appliesTo({ kind: 'ServiceAccount', name: 'builder' }, sa, 'other')).toBe(false);
    expect(appliesTo({ kind: 'ServiceAccount', name: 'builder', namespace: 'team' }, sa, '')).toBe(true);
    // A cluster binding's subject without a namespace matches no service account.
    expect(appliesTo({ kind: 'ServiceAccount', name: 'builder' }, sa, '')).toBe(false);
    expect(appliesTo({ kind: 'Robot', name: 'builder' }, sa, 'team')).toBe(false);
  });
});

describe('covers (policy_comparator Covers)', () => {
  it('is covered by wildcards and exact rules, and names what is missing atom by atom', () => {
    const owner: PolicyRule[] = [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'configmaps'] },
      { verbs: ['*'], apiGroups: ['apps'], resources: ['*'] },
    ];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    expect(
      covers(owner, [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments/scale'] }]),
    ).toEqual([]);
    expect(
      covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }]),
    ).toEqual([
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
      { verbs: ['delete'], apiGroups: [''], resources: ['secrets'] },
    ]);
  });

  it('lets */subresource cover that subresource of any resource, but not the resource', () => {
    const owner: PolicyRule[] = [{ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }];
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods/status'] }])).toEqual([]);
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toHaveLength(1);
  });

  it('lets a rule without names cover any name, and a named rule only its names', () => {
    const named: PolicyRule[] = [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] },
    ];
    expect(covers(named, [{ ...named[0], resourceNames: ['a'] }])).toEqual([]);
    expect(covers(named, [{ ...named[0], resourceNames: ['b'] }])).toHaveLength(1);
    expect(covers(named, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])).toHaveLength(1);
  });

  it('covers non-resource URLs by glob', () => {
    const owner: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }];
    expect(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }])).toEqual([]);
    expect(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }])).toHaveLength(1);
  });
});

describe('compactRules and compactString (as the escalation refusal prints them)', () => {
  it('merges atoms that differ only by verb and prints Go’s %q lists', () => {
    const missing: PolicyRule[] = [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
      { verbs: ['list'], apiGroups: [''], resources: ['secrets'] },
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x'] },
      { verbs: ['delete'], apiGroups: [''], resources: ['secrets'], resourceNames: ['x'] },
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['y'] },
    ];
    expect(compactRules(missing).map(compactString)).toEqual([
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
      '{APIGroups:[""], Resources:["secrets"], ResourceNames:["x"], Verbs:["get" "delete"]}',
      '{APIGroups:[""], Resources:["secrets"], ResourceNames:["y"], Verbs:["get"]}',
    ]);
    expect(compactString({ verbs: ['get'], nonResourceURLs: ['/metrics'] })).toBe(
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    );
  });
});
