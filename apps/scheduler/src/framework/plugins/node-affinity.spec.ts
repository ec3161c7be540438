import { describe, expect, it } from '@jest/globals';

import { type NodeSelectorTerm } from '../api-types.js';
import { podInfo } from '../pod-info.js';
import { filterReasons, makeNode, makePod, runScore, snapshotOf } from '../test-fixtures.js';
import { CycleState } from '../types.js';
import { NodeAffinity } from './node-affinity.js';

const MISMATCH = "node(s) didn't match Pod's node affinity/selector";

const requiredPod = (terms: NodeSelectorTerm[], nodeSelector?: Record<string, string>) =>
  makePod('p', {
    nodeSelector,
    affinity: {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    },
  });

describe('NodeAffinity filter', () => {
  const snapshot = snapshotOf(
    [makeNode('n1', { labels: { foo: 'bar', gpu: '2', zone: 'a' } })],
    [makeNode('n2', { labels: { foo: 'baz', gpu: '8' } })],
    [makeNode('n3', { labels: {} })],
  );
  const fitting = (pod: ReturnType<typeof makePod>) =>
    Object.entries(filterReasons(new NodeAffinity(), pod, snapshot))
      .filter(([, reasons]) => reasons.length === 0)
      .map(([name]) => name);

  it('lets every pod without selector or required terms through (PreFilter skips)', () => {
    expect(new NodeAffinity().preFilter(new CycleState(), podInfo(makePod('p')))).toBe('Skip');
    expect(fitting(makePod('p'))).toEqual(['n1', 'n2', 'n3']);
  });

  it('matches spec.nodeSelector exactly, with upstream’s reason', () => {
    expect(
      filterReasons(new NodeAffinity(), makePod('p', { nodeSelector: { foo: 'bar' } }), snapshot),
    ).toEqual({
      n1: [],
      n2: [MISMATCH],
      n3: [MISMATCH],
    });
  });

  it.each([
    ['In', [{ key: 'foo', operator: 'In', values: ['bar', 'value2'] }], ['n1']],
    ['NotIn (absent key matches)', [{ key: 'foo', operator: 'NotIn', values: ['bar'] }], ['n2', 'n3']],
    ['Exists', [{ key: 'foo', operator: 'Exists' }], ['n1', 'n2']],
    ['DoesNotExist', [{ key: 'foo', operator: 'DoesNotExist' }], ['n3']],
    ['Gt', [{ key: 'gpu', operator: 'Gt', values: ['4'] }], ['n2']],
    ['Lt', [{ key: 'gpu', operator: 'Lt', values: ['4'] }], ['n1']],
    [
      'Gt with a non-integer value is invalid: the term matches nothing',
      [{ key: 'gpu', operator: 'Gt', values: ['x'] }],
      [],
    ],
    [
      'requirements in a term are ANDed',
      [
        { key: 'foo', operator: 'Exists' },
        { key: 'zone', operator: 'In', values: ['a'] },
      ],
      ['n1'],
    ],
  ])('required term with %s', (_name, matchExpressions, expected) => {
    expect(fitting(requiredPod([{ matchExpressions }]))).toEqual(expected);
  });

  it('ORs the terms, ignores an empty term and ANDs nodeSelector with them', () => {
    const terms: NodeSelectorTerm[] = [
      {},
      { matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] },
      { matchExpressions: [{ key: 'foo', operator: 'In', values: ['baz'] }] },
    ];
    expect(fitting(requiredPod(terms))).toEqual(['n1', 'n2']);
    expect(fitting(requiredPod(terms, { gpu: '8' }))).toEqual(['n2']);
    expect(fitting(requiredPod([]))).toEqual([]); // required affinity with no terms matches nothing
  });

  it('matches matchFields metadata.name and narrows PreFilter to the named nodes', () => {
    const pod = requiredPod([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]);
    expect(fitting(pod)).toEqual(['n2']);
    const result = new NodeAffinity().preFilter(new CycleState(), podInfo(pod));
    expect(result).toEqual({ nodeNames: new Set(['n2']) });

    const notIn = requiredPod([
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] },
    ]);
    expect(fitting(notIn)).toEqual(['n1', 'n3']);
    expect(new NodeAffinity().preFilter(new CycleState(), podInfo(notIn))).toBeUndefined();
  });

  it('unions the names over terms, and fails PreFilter when terms pin the pod to no node', () => {
    const union = requiredPod([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] },
    ]);
    expect(new NodeAffinity().preFilter(new CycleState(), podInfo(union))).toEqual({
      nodeNames: new Set(['n1', 'n3']),
    });
    const conflict = requiredPod([
      {
        matchFields: [
          { key: 'metadata.name', operator: 'In', values: ['n1'] },
          { key: 'metadata.name', operator: 'In', values: ['n2'] },
        ],
      },
    ]);
    expect(new NodeAffinity().preFilter(new CycleState(), podInfo(conflict))).toEqual({
      code: 'UnschedulableAndUnresolvable',
      reasons: ['pod affinity terms conflict'],
    });
  });
});

describe('NodeAffinity score', () => {
  const snapshot = snapshotOf(
    [makeNode('m1', { labels: { foo: 'bar' } })],
    [makeNode('m2', { labels: { foo: 'bar', key: 'value' } })],
    [makeNode('m3', { labels: { foo: 'bar', key: 'value', az: 'az1' } })],
    [makeNode('m4', { labels: { other: 'x' } })],
  );
  const preferring = (...prefs: [number, NodeSelectorTerm][]) =>
    makePod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: prefs.map(([weight, preference]) => ({
            weight,
            preference,
          })),
        },
      },
    });
  const term = (key: string, value: string): NodeSelectorTerm => ({
    matchExpressions: [{ key, operator: 'In', values: [value] }],
  });

  it('scores every node 0 without preferred terms', () => {
    expect(runScore(new NodeAffinity(), makePod('p'), snapshot)).toEqual({ m1: 0, m2: 0, m3: 0, m4: 0 });
  });

  it('gives the only matching node 100', () => {
    expect(runScore(new NodeAffinity(), preferring([2, term('az', 'az1')]), snapshot)).toEqual({
      m1: 0,
      m2: 0,
      m3: 100,
      m4: 0,
    });
  });

  it('sums the weights of matching terms and scales the best to 100', () => {
    const pod = preferring(
      [2, term('foo', 'bar')],
      [2, term('key', 'value')],
      [7, term('az', 'az1')],
      [0, term('other', 'x')],
    );
    // m1 = 2, m2 = 4, m3 = 11; weight-0 terms count for nothing.
    expect(runScore(new NodeAffinity(), pod, snapshot)).toEqual({ m1: 18, m2: 36, m3: 100, m4: 0 });
  });
});
