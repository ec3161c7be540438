import { describe, expect, it } from '@jest/globals';

import { labelSelectorFromObject } from '@app/api';

import { type TopologySpreadConstraintSpec } from '../api-types.js';
import { filterReasons, makeNode, makePod, type PodOptions, runScore, snapshotOf } from '../test-fixtures.js';
import { type KubeObject, type Taint } from '../types.js';
import { PodTopologySpread } from './pod-topology-spread.js';

const SKEW = "node(s) didn't match pod topology spread constraints";
const MISSING = "node(s) didn't match pod topology spread constraints (missing required label)";

const node = (name: string, zone?: string, taints?: Taint[]) =>
  makeNode(name, {
    labels: { 'kubernetes.io/hostname': name, ...(zone === undefined ? {} : { zone }) },
    taints,
  });
const fooPods = (prefix: string, n: number, o: PodOptions = {}) =>
  Array.from({ length: n }, (_, i) => makePod(`${prefix}-${i}`, { labels: { foo: '' }, ...o }));

const constraint = (
  topologyKey: string,
  maxSkew: number,
  extra: Partial<TopologySpreadConstraintSpec> = {},
  whenUnsatisfiable = 'DoNotSchedule',
): TopologySpreadConstraintSpec => ({
  maxSkew,
  topologyKey,
  whenUnsatisfiable,
  labelSelector: { matchExpressions: [{ key: 'foo', operator: 'Exists' }] },
  ...extra,
});

const incoming = (constraints: TopologySpreadConstraintSpec[], o: PodOptions = {}): KubeObject =>
  makePod('p', { labels: { foo: '' }, topologySpreadConstraints: constraints, ...o });

const fitting = (pod: KubeObject, ...entries: [KubeObject, KubeObject[]?][]) => {
  const reasons = filterReasons(new PodTopologySpread(), pod, snapshotOf(...entries));
  return Object.keys(reasons).filter((n) => reasons[n].length === 0);
};

describe('PodTopologySpread filter', () => {
  it('fits every node when no pod exists yet, and skips pods without DoNotSchedule constraints', () => {
    expect(fitting(incoming([constraint('zone', 1)]), [node('a', 'z1')], [node('b', 'z2')])).toEqual([
      'a',
      'b',
    ]);
    expect(fitting(makePod('p'), [node('a')], [node('b')])).toEqual(['a', 'b']);
  });

  it('keeps the skew across zones within maxSkew (3/3 balanced: all fit; 2/1: only the emptier)', () => {
    expect(
      fitting(
        incoming([constraint('zone', 1)]),
        [node('a', 'z1'), fooPods('a', 3)],
        [node('b', 'z2'), fooPods('b', 3)],
      ),
    ).toEqual(['a', 'b']);
    expect(
      fitting(
        incoming([constraint('zone', 1)]),
        [node('a', 'z1'), fooPods('a', 2)],
        [node('b', 'z2'), fooPods('b', 1)],
      ),
    ).toEqual(['b']);
  });

  it('spreads over nodes as 2/1/0/3: only the empty node fits with maxSkew 1, b and x with maxSkew 2', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 2)],
      [node('b', 'z1'), fooPods('b', 1)],
      [node('x', 'z2'), []],
      [node('y', 'z2'), fooPods('y', 3)],
    ];
    expect(fitting(incoming([constraint('kubernetes.io/hostname', 1)]), ...entries)).toEqual(['x']);
    expect(fitting(incoming([constraint('kubernetes.io/hostname', 2)]), ...entries)).toEqual(['b', 'x']);
  });

  it('rejects nodes without the topology label as unresolvable, and those nodes do not count', () => {
    const snapshot = snapshotOf(
      [node('a', 'z1'), fooPods('a', 1)],
      [node('b'), fooPods('b', 5)],
      [node('x', 'z2')],
    );
    const reasons = filterReasons(new PodTopologySpread(), incoming([constraint('zone', 1)]), snapshot);
    expect(reasons).toEqual({ a: [SKEW], b: [MISSING], x: [] });
  });

  it('counts only pods in the same namespace that the selector matches, and not terminating ones', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [
        node('a', 'z1'),
        [
          ...fooPods('other-ns', 3, { namespace: 'other' }),
          ...fooPods('gone', 3, { deleting: true }),
          makePod('nolabel'),
        ],
      ],
      [node('b', 'z2'), []],
    ];
    expect(fitting(incoming([constraint('zone', 1)]), ...entries)).toEqual(['a', 'b']);
  });

  it('adds the incoming pod to its domain only when its selector matches it', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 1)],
      [node('b', 'z2'), []],
    ];
    // Matching itself: a would be 1 + 1 − 0 = 2 > 1. Not matching: 1 + 0 − 0 = 1, allowed.
    expect(fitting(incoming([constraint('zone', 1)]), ...entries)).toEqual(['b']);
    expect(fitting(incoming([constraint('zone', 1)], { labels: { bar: '' } }), ...entries)).toEqual([
      'a',
      'b',
    ]);
  });

  it('applies every constraint (zone and node)', () => {
    const pod = incoming([constraint('zone', 1), constraint('kubernetes.io/hostname', 1)]);
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 1)],
      [node('b', 'z1'), []],
      [node('x', 'z2'), fooPods('x', 1)],
      [node('y', 'z2'), fooPods('y', 1)],
    ];
    // zones: z1 = 1, z2 = 2 → only z1; nodes: min 0 → b only.
    expect(fitting(pod, ...entries)).toEqual(['b']);
  });

  it('treats the global minimum as 0 while there are fewer domains than minDomains', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 1)],
      [node('b', 'z2'), fooPods('b', 1)],
    ];
    expect(fitting(incoming([constraint('zone', 1)]), ...entries)).toEqual(['a', 'b']);
    expect(fitting(incoming([constraint('zone', 1, { minDomains: 3 })]), ...entries)).toEqual([]);
    expect(fitting(incoming([constraint('zone', 2, { minDomains: 3 })]), ...entries)).toEqual(['a', 'b']);
  });

  it('honours the pod’s node affinity by default when counting (nodeAffinityPolicy), and can ignore it', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [makeNode('a', { labels: { zone: 'z1', pool: 'x' } }), fooPods('a', 1)],
      [makeNode('b', { labels: { zone: 'z2', pool: 'x' } }), fooPods('b', 2)],
      [makeNode('c', { labels: { zone: 'z3' } }), []],
    ];
    // z3 is excluded by the nodeSelector: min is 1 (z1), so z1 fits and z2 (2 + 1 − 1) does not.
    const honour = incoming([constraint('zone', 1)], { nodeSelector: { pool: 'x' } });
    expect(fitting(honour, ...entries)).toEqual(['a', 'c']);
    // Ignore: the empty z3 counts, min is 0, and z1 (1 + 1 − 0 = 2) no longer fits.
    const ignore = incoming([constraint('zone', 1, { nodeAffinityPolicy: 'Ignore' })], {
      nodeSelector: { pool: 'x' },
    });
    expect(fitting(ignore, ...entries)).toEqual(['c']);
  });

  it('ignores node taints by default when counting, and honours them with nodeTaintsPolicy Honor', () => {
    const tainted = node('c', 'z3', [{ key: 'k', value: 'v', effect: 'NoSchedule' }]);
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 1)],
      [node('b', 'z2'), fooPods('b', 2)],
      [tainted, []],
    ];
    // The filter itself does not check taints (TaintToleration does), so c always passes here.
    expect(fitting(incoming([constraint('zone', 1)]), ...entries)).toEqual(['c']);
    expect(fitting(incoming([constraint('zone', 1, { nodeTaintsPolicy: 'Honor' })]), ...entries)).toEqual([
      'a',
      'c',
    ]);
  });

  it('adds matchLabelKeys to the selector with the pod’s own values', () => {
    const entries: [KubeObject, KubeObject[]][] = [
      [node('a', 'z1'), fooPods('a', 2, { labels: { foo: '', rev: 'old' } })],
      [node('b', 'z2'), []],
    ];
    const pod = incoming([constraint('zone', 1, { matchLabelKeys: ['rev'] })], {
      labels: { foo: '', rev: 'new' },
    });
    expect(fitting(pod, ...entries)).toEqual(['a', 'b']);
    const without = incoming([constraint('zone', 1)], { labels: { foo: '', rev: 'new' } });
    expect(fitting(without, ...entries)).toEqual(['b']);
  });
});

describe('PodTopologySpread score', () => {
  const soft = (topologyKey: string, maxSkew = 1) => constraint(topologyKey, maxSkew, {}, 'ScheduleAnyway');

  it('gives every node 100 when no pod matches yet', () => {
    const snapshot = snapshotOf([node('a', 'z1')], [node('b', 'z2')]);
    expect(runScore(new PodTopologySpread(), incoming([soft('kubernetes.io/hostname')]), snapshot)).toEqual({
      a: 100,
      b: 100,
    });
  });

  it('scores nodes by matching pods, fewer is better (2/1/0/3 over four nodes)', () => {
    const snapshot = snapshotOf(
      [node('a', 'z1'), fooPods('a', 2)],
      [node('b', 'z1'), fooPods('b', 1)],
      [node('c', 'z2')],
      [node('d', 'z2'), fooPods('d', 3)],
    );
    // raw = round(count × ln(4 + 2)): 4, 2, 0, 5 → 100 × (5 + 0 − raw) / 5.
    expect(runScore(new PodTopologySpread(), incoming([soft('kubernetes.io/hostname')]), snapshot)).toEqual({
      a: 20,
      b: 60,
      c: 100,
      d: 0,
    });
  });

  it('counts pods per zone over every node, and ignores candidates without the label', () => {
    const snapshot = snapshotOf(
      [node('a', 'z1'), fooPods('a', 2)],
      [node('b', 'z1'), fooPods('b', 1)],
      [node('c', 'z2'), fooPods('c', 1)],
      [node('d')],
    );
    // Weight ln(2 + 2) for two zones: z1 = 3 × 1.386 = 4.16 → 4, z2 = 1.39 → 1; d has no zone.
    expect(runScore(new PodTopologySpread(), incoming([soft('zone')]), snapshot)).toEqual({
      a: 25,
      b: 25,
      c: 100,
      d: 0,
    });
  });

  it('adds maxSkew − 1 per constraint before normalising', () => {
    const snapshot = snapshotOf([node('a', 'z1'), fooPods('a', 1)], [node('b', 'z1')]);
    // raw = count × ln(4) + 2: a = 3.39 → 3, b = 2 → 100 × (3 + 2 − raw) / 3.
    expect(
      runScore(new PodTopologySpread(), incoming([soft('kubernetes.io/hostname', 3)]), snapshot),
    ).toEqual({
      a: 66,
      b: 100,
    });
  });

  it('applies the system defaults only when a default selector is given for the pod', () => {
    const zoned = (name: string, zone?: string) =>
      makeNode(name, {
        labels: { 'kubernetes.io/hostname': name, ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}) },
      });
    const snapshot = snapshotOf([zoned('a', 'z1'), fooPods('a', 2)], [zoned('b', 'z1')], [zoned('c')]);
    const pod = makePod('p', { labels: { foo: '' } });
    expect(runScore(new PodTopologySpread(), pod, snapshot)).toEqual({ a: 0, b: 0, c: 0 });
    const plugin = new PodTopologySpread({
      defaultSelector: () => labelSelectorFromObject({ matchLabels: { foo: '' } }),
    });
    // hostname (maxSkew 3, weight ln(3 + 2)): a = 2 × 1.609 + 2, b = c = 2. zone (maxSkew 5,
    // weight ln(2 + 2): z1 and the '' domain of zone-less c, which is not ignored with defaults):
    // a = b = 2 × 1.386 + 4, c has no zone label. raw a = round(11.99) = 12, b = round(8.77) = 9,
    // c = 2 → 100 × (12 + 2 − raw) / 12.
    expect(runScore(plugin, pod, snapshot)).toEqual({ a: 16, b: 41, c: 100 });
  });
});
