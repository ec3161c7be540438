import { describe, expect, it } from '@jest/globals';

import { type AffinitySpec, type PodAffinityTermSpec } from '../api-types.js';
import { filterReasons, makeNode, makePod, type PodOptions, runScore, snapshotOf } from '../test-fixtures.js';
import { type KubeObject } from '../types.js';
import { InterPodAffinity } from './inter-pod-affinity.js';

const AFFINITY = "node(s) didn't match pod affinity rules";
const ANTI = "node(s) didn't match pod anti-affinity rules";
const EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules";

const node = (name: string, labels: Record<string, string> = {}) =>
  makeNode(name, { labels: { 'kubernetes.io/hostname': name, ...labels } });
const term = (
  topologyKey: string,
  matchLabels: Record<string, string>,
  extra: Partial<PodAffinityTermSpec> = {},
) => ({
  topologyKey,
  labelSelector: { matchLabels },
  ...extra,
});
const pod = (
  name: string,
  labels: Record<string, string>,
  affinity?: AffinitySpec,
  o: PodOptions = {},
): KubeObject => makePod(name, { labels, affinity, ...o });
const required = (...terms: PodAffinityTermSpec[]) => ({
  requiredDuringSchedulingIgnoredDuringExecution: terms,
});
const preferred = (...terms: [number, PodAffinityTermSpec][]) => ({
  preferredDuringSchedulingIgnoredDuringExecution: terms.map(([weight, podAffinityTerm]) => ({
    weight,
    podAffinityTerm,
  })),
});

describe('InterPodAffinity filter', () => {
  it('lets a pod without affinity onto any node, even with no pods around', () => {
    const snapshot = snapshotOf([node('n1')], [node('n2'), [pod('e', { app: 'x' })]]);
    expect(filterReasons(new InterPodAffinity(), pod('p', {}), snapshot)).toEqual({ n1: [], n2: [] });
  });

  it('requires a matching pod in the node’s topology domain (required affinity)', () => {
    const snapshot = snapshotOf(
      [node('n1', { region: 'r1' }), [pod('db', { service: 'securityscan' })]],
      [node('n2', { region: 'r1' })],
      [node('n3', { region: 'r2' }), [pod('other', { service: 'other' })]],
      [node('n4')],
    );
    const p = pod('p', {}, { podAffinity: required(term('region', { service: 'securityscan' })) });
    expect(filterReasons(new InterPodAffinity(), p, snapshot)).toEqual({
      n1: [],
      n2: [],
      n3: [AFFINITY],
      n4: [AFFINITY], // no region label at all
    });
  });

  it('needs one pod matching all terms; looks only in the term’s namespaces (default: the pod’s own)', () => {
    const snapshot = snapshotOf(
      [node('n1'), [pod('a', { app: 'x' }), pod('b', { tier: 'y' })]],
      [node('n2'), [pod('c', { app: 'x', tier: 'y' }, undefined, { namespace: 'other' })]],
    );
    const both = pod(
      'p',
      {},
      {
        podAffinity: required(
          term('kubernetes.io/hostname', { app: 'x' }),
          term('kubernetes.io/hostname', { tier: 'y' }),
        ),
      },
    );
    expect(filterReasons(new InterPodAffinity(), both, snapshot)).toEqual({ n1: [AFFINITY], n2: [AFFINITY] });
    const otherNs = pod(
      'q',
      {},
      { podAffinity: required(term('kubernetes.io/hostname', { app: 'x' }, { namespaces: ['other'] })) },
    );
    expect(filterReasons(new InterPodAffinity(), otherNs, snapshot)).toEqual({ n1: [AFFINITY], n2: [] });
  });

  it('lets the first pod of a self-affine group go where its topology key exists', () => {
    const snapshot = snapshotOf([node('n1', { zone: 'z1' })], [node('n2')]);
    const first = pod('p', { app: 'web' }, { podAffinity: required(term('zone', { app: 'web' })) });
    expect(filterReasons(new InterPodAffinity(), first, snapshot)).toEqual({ n1: [], n2: [AFFINITY] });
    const notSelf = pod('q', { app: 'api' }, { podAffinity: required(term('zone', { app: 'web' })) });
    expect(filterReasons(new InterPodAffinity(), notSelf, snapshot)).toEqual({
      n1: [AFFINITY],
      n2: [AFFINITY],
    });
  });

  it('keeps the pod out of domains holding a pod its required anti-affinity matches', () => {
    const snapshot = snapshotOf(
      [node('n1', { zone: 'z1' }), [pod('e', { app: 'db' })]],
      [node('n2', { zone: 'z1' })],
      [node('n3', { zone: 'z2' })],
      [node('n4')],
    );
    const byZone = pod('p', {}, { podAntiAffinity: required(term('zone', { app: 'db' })) });
    expect(filterReasons(new InterPodAffinity(), byZone, snapshot)).toEqual({
      n1: [ANTI],
      n2: [ANTI],
      n3: [],
      n4: [],
    });
    const byHost = pod('p', {}, { podAntiAffinity: required(term('kubernetes.io/hostname', { app: 'db' })) });
    expect(filterReasons(new InterPodAffinity(), byHost, snapshot)).toEqual({
      n1: [ANTI],
      n2: [],
      n3: [],
      n4: [],
    });
  });

  it('honours existing pods’ required anti-affinity against the incoming pod', () => {
    const guard = pod('guard', { app: 'guard' }, { podAntiAffinity: required(term('zone', { app: 'web' })) });
    const snapshot = snapshotOf(
      [node('n1', { zone: 'z1' }), [guard]],
      [node('n2', { zone: 'z1' })],
      [node('n3', { zone: 'z2' })],
    );
    expect(filterReasons(new InterPodAffinity(), pod('p', { app: 'web' }), snapshot)).toEqual({
      n1: [EXISTING_ANTI],
      n2: [EXISTING_ANTI],
      n3: [],
    });
    expect(filterReasons(new InterPodAffinity(), pod('q', { app: 'other' }), snapshot)).toEqual({
      n1: [],
      n2: [],
      n3: [],
    });
    const otherNs = pod('r', { app: 'web' }, undefined, { namespace: 'elsewhere' });
    expect(filterReasons(new InterPodAffinity(), otherNs, snapshot)).toEqual({ n1: [], n2: [], n3: [] });
  });

  it('matches namespaces by namespaceSelector through the lookup', () => {
    const labels: Record<string, Record<string, string>> = { team1: { team: 'a' }, team2: { team: 'b' } };
    const plugin = new InterPodAffinity({ namespaceLabels: (ns) => labels[ns] });
    const snapshot = snapshotOf(
      [node('n1'), [pod('x', { app: 'db' }, undefined, { namespace: 'team1' })]],
      [node('n2'), [pod('y', { app: 'db' }, undefined, { namespace: 'team2' })]],
    );
    const p = pod(
      'p',
      {},
      {
        podAntiAffinity: required(
          term(
            'kubernetes.io/hostname',
            { app: 'db' },
            { namespaceSelector: { matchLabels: { team: 'a' } } },
          ),
        ),
      },
    );
    expect(filterReasons(plugin, p, snapshot)).toEqual({ n1: [ANTI], n2: [] });
    // An empty namespaceSelector selects every namespace.
    const all = pod(
      'q',
      {},
      { podAntiAffinity: required(term('kubernetes.io/hostname', { app: 'db' }, { namespaceSelector: {} })) },
    );
    expect(filterReasons(plugin, all, snapshot)).toEqual({ n1: [ANTI], n2: [ANTI] });
  });
});

describe('InterPodAffinity score', () => {
  const snapshot = () =>
    snapshotOf(
      [node('m1', { region: 'China' }), [pod('s1', { security: 'S1' })]],
      [node('m2', { region: 'India' }), [pod('s2', { security: 'S2' })]],
      [node('m3', { region: 'China' })],
      [node('m4')],
    );

  it('scores every node 0 when no pod has any affinity', () => {
    expect(runScore(new InterPodAffinity(), pod('p', {}), snapshot())).toEqual({
      m1: 0,
      m2: 0,
      m3: 0,
      m4: 0,
    });
  });

  it('prefers the domains of pods its preferred affinity matches', () => {
    const p = pod('p', {}, { podAffinity: preferred([5, term('region', { security: 'S1' })]) });
    expect(runScore(new InterPodAffinity(), p, snapshot())).toEqual({ m1: 100, m2: 0, m3: 100, m4: 0 });
  });

  it('avoids the domains of pods its preferred anti-affinity matches', () => {
    const p = pod('p', {}, { podAntiAffinity: preferred([5, term('region', { security: 'S1' })]) });
    expect(runScore(new InterPodAffinity(), p, snapshot())).toEqual({ m1: 0, m2: 100, m3: 0, m4: 100 });
  });

  it('weighs terms against each other and scales between the lowest and highest node', () => {
    const p = pod(
      'p',
      {},
      {
        podAffinity: preferred(
          [8, term('region', { security: 'S1' })],
          [2, term('region', { security: 'S2' })],
        ),
        podAntiAffinity: preferred([4, term('kubernetes.io/hostname', { security: 'S1' })]),
      },
    );
    // m1: 8 − 4 = 4, m2: 2, m3: 8, m4: 0 → 100 × (s − 0) / 8.
    expect(runScore(new InterPodAffinity(), p, snapshot())).toEqual({ m1: 50, m2: 25, m3: 100, m4: 0 });
  });

  it('counts existing pods’ preferred terms and required affinity (hard weight 1) toward the incoming pod', () => {
    const s = snapshotOf(
      [
        node('m1', { zone: 'a' }),
        [pod('likes', {}, { podAffinity: preferred([10, term('zone', { app: 'web' })]) })],
      ],
      [
        node('m2', { zone: 'b' }),
        [pod('needs', {}, { podAffinity: required(term('zone', { app: 'web' })) })],
      ],
      [
        node('m3', { zone: 'c' }),
        [pod('hates', {}, { podAntiAffinity: preferred([10, term('zone', { app: 'web' })]) })],
      ],
    );
    // m1 = 10, m2 = 1, m3 = −10 → 100 × (s + 10) / 20.
    expect(runScore(new InterPodAffinity(), pod('p', { app: 'web' }), s)).toEqual({ m1: 100, m2: 55, m3: 0 });
  });
});
