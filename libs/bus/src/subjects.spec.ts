import { describe, expect, it } from '@jest/globals';

import {
  decodeToken,
  encodeToken,
  eventFilter,
  eventSubject,
  podsOnNode,
  subjectMatches,
  subjectOf,
} from './subjects.js';

const pod = (name: string, nodeName?: string) => ({
  group: '',
  resource: 'pods',
  namespace: 'default',
  name,
  object: { metadata: { name }, ...(nodeName ? { spec: { nodeName } } : {}) },
});

describe('subject tokens', () => {
  it.each([
    '',
    'web',
    'a.b.example.com',
    'a.beef',
    '.e.',
    'with space',
    'x*y>z',
    'under_score',
    'tilde~7e',
    'ünï',
  ])('round-trips %j and yields one NATS token', (value) => {
    const token = encodeToken(value);
    expect(token).not.toMatch(/[.*>\s]/);
    expect(token.length).toBeGreaterThan(0);
    expect(decodeToken(token)).toBe(value);
  });

  it('never maps two names to one token', () => {
    const names = ['a.b', 'a~2eb', 'a~002eb', 'a_b', '_', '', 'a b', 'a~b', 'a.bc', 'a~002ebc'];
    const tokens = names.map(encodeToken);
    expect(new Set(tokens).size).toBe(names.length);
  });
});

describe('event subjects', () => {
  it('names resource, group (core for ""), namespace (_ for cluster-scoped) and name', () => {
    expect(
      eventSubject({
        group: '',
        resource: 'configmaps',
        namespace: 'kube-system',
        name: 'a.b',
        object: null,
      }),
    ).toBe('ev.configmaps.core.kube-system.a~002eb');
    expect(
      eventSubject({ group: 'apps', resource: 'deployments', namespace: 'prod', name: 'api', object: null }),
    ).toBe('ev.deployments.apps.prod.api');
    expect(eventSubject({ group: '', resource: 'nodes', namespace: '', name: 'n1', object: null })).toBe(
      'ev.nodes.core._.n1',
    );
    expect(
      eventSubject({
        group: 'rbac.authorization.k8s.io',
        resource: 'clusterroles',
        namespace: '',
        name: 'admin',
        object: null,
      }),
    ).toBe('ev.clusterroles.rbac~002eauthorization~002ek8s~002eio._.admin');
  });

  it('routes pods by node, and unscheduled pods to _', () => {
    expect(eventSubject(pod('web', 'node-1'))).toBe('ev.pods.core.default.web.node-1');
    expect(eventSubject(pod('web'))).toBe('ev.pods.core.default.web._');
    expect(subjectOf(pod('web'), 'n.2')).toBe('ev.pods.core.default.web.n~002e2');
  });

  it('filters select what they say, and only that', () => {
    const onNode1 = eventSubject(pod('web', 'node-1'));
    const onNode2 = eventSubject(pod('db', 'node-2'));
    expect(subjectMatches(podsOnNode('node-1'), onNode1)).toBe(true);
    expect(subjectMatches(podsOnNode('node-1'), onNode2)).toBe(false);
    expect(subjectMatches(eventFilter({ resource: 'pods', group: '' }), onNode2)).toBe(true);
    expect(subjectMatches(eventFilter({ resource: 'pods', group: '', name: 'web' }), onNode1)).toBe(true);
    expect(subjectMatches(eventFilter({ resource: 'pods', group: '', name: 'web' }), onNode2)).toBe(false);
    const cm = 'ev.configmaps.core.default.web';
    expect(subjectMatches(eventFilter({ resource: 'configmaps', group: '', namespace: 'default' }), cm)).toBe(
      true,
    );
    expect(subjectMatches(eventFilter({ resource: 'configmaps', group: '', namespace: 'other' }), cm)).toBe(
      false,
    );
    expect(subjectMatches(eventFilter({ resource: 'configmaps', group: 'apps' }), cm)).toBe(false);
    expect(subjectMatches(eventFilter(), cm)).toBe(true);
  });

  it('matches NATS wildcards: * one token, > one or more at the end', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.d')).toBe(false);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b.c', 'a.b')).toBe(false);
  });
});
