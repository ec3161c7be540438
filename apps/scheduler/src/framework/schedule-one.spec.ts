import { describe, expect, it } from '@jest/globals';

import { defaultPlugins } from './default-plugins.js';
import { podInfo } from './pod-info.js';
import {
  findNodesThatFit,
  fitError,
  numFeasibleNodesToFind,
  prioritizeNodes,
  type Profile,
  schedulePod,
  selectHost,
} from './schedule-one.js';
import { NodeSnapshot } from './snapshot.js';
import { makeNode, makePod, snapshotOf } from './test-fixtures.js';
import {
  CycleState,
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type ScorePlugin,
  SKIP,
} from './types.js';

const nodes = (n: number, o: (i: number) => Parameters<typeof makeNode>[1] = () => ({})) =>
  new NodeSnapshot(Array.from({ length: n }, (_, i) => makeNode(`n${i}`, o(i))));

/** A filter that rejects the nodes `rejects` picks, with `reason`. */
function filterOf(
  name: string,
  rejects: (node: NodeInfo) => boolean,
  reason = `${name} says no`,
): FilterPlugin & { calls: number } {
  const plugin = {
    name,
    calls: 0,
    filter(_s: CycleState, _p: unknown, node: NodeInfo): PluginStatus | undefined {
      plugin.calls++;
      return rejects(node) ? { code: 'Unschedulable', reasons: [reason] } : undefined;
    },
  };
  return plugin;
}

const index = (node: NodeInfo) => Number(node.name.slice(1));
const pod = podInfo(makePod('p'));

describe('numFeasibleNodesToFind (adaptive sampling)', () => {
  it.each([
    [50, 50], // below 100 nodes: every node
    [99, 99],
    [100, 100], // 50% is 50, raised to the minimum of 100
    [500, 230], // 46%
    [5000, 500], // 10%
    [6000, 300], // 50 − 48 = 2%, floored at 5%
    [20000, 1000], // 5%
  ])('%i nodes → %i', (all, expected) => {
    expect(numFeasibleNodesToFind(all)).toBe(expected);
  });

  it('uses an explicit percentage, still never below 100 nodes', () => {
    expect(numFeasibleNodesToFind(1000, 20)).toBe(200);
    expect(numFeasibleNodesToFind(1000, 5)).toBe(100);
    expect(numFeasibleNodesToFind(50, 10)).toBe(50);
  });
});

describe('findNodesThatFit', () => {
  const everyone: Profile = { filters: [filterOf('Nobody', () => false)], scores: [] };

  it('stops at the sample size and rotates the start index, wrapping around', () => {
    const snapshot = nodes(500);
    const first = findNodesThatFit(everyone, new CycleState(), pod, snapshot, 0);
    expect(first.feasible).toHaveLength(230);
    expect(first.feasible[0].name).toBe('n0');
    expect(first.nextStartIndex).toBe(230);

    const second = findNodesThatFit(everyone, new CycleState(), pod, snapshot, first.nextStartIndex);
    expect(second.feasible.map(index)).toEqual([...Array.from({ length: 230 }, (_, i) => (230 + i) % 500)]);
    expect(second.nextStartIndex).toBe(460);

    const third = findNodesThatFit(everyone, new CycleState(), pod, snapshot, second.nextStartIndex);
    expect(third.feasible[0].name).toBe('n460');
    expect(third.feasible[40].name).toBe('n0');
    expect(third.nextStartIndex).toBe(190);
  });

  it('samples 500 of 5,000 nodes and 300 of 6,000', () => {
    expect(findNodesThatFit(everyone, new CycleState(), pod, nodes(5000), 4900).feasible).toHaveLength(500);
    const r = findNodesThatFit(everyone, new CycleState(), pod, nodes(6000), 0);
    expect(r.feasible).toHaveLength(300);
    expect(r.nextStartIndex).toBe(300);
  });

  it('checks every node of a small cluster', () => {
    const r = findNodesThatFit(everyone, new CycleState(), pod, nodes(50), 10);
    expect(r.feasible).toHaveLength(50);
    expect(r.nextStartIndex).toBe(10);
  });

  it('counts rejected nodes as processed when advancing the start index', () => {
    const everyThird: Profile = { filters: [filterOf('Third', (n) => index(n) % 3 === 0)], scores: [] };
    const r = findNodesThatFit(everyThird, new CycleState(), pod, nodes(300), 0);
    // 48% of 300 = 144 feasible; two of every three fit, so 216 nodes were looked at.
    expect(r.feasible).toHaveLength(144);
    expect(r.statuses.size).toBe(72);
    expect(r.nextStartIndex).toBe(216);
  });

  it('records the first rejecting filter’s status per node and does not run later filters there', () => {
    const a = filterOf('A', (n) => index(n) === 0, 'a reason');
    const b = filterOf('B', (n) => index(n) <= 1, 'b reason');
    const r = findNodesThatFit({ filters: [a, b], scores: [] }, new CycleState(), pod, nodes(3), 0);
    expect(r.feasible.map((n) => n.name)).toEqual(['n2']);
    expect(Object.fromEntries(r.statuses)).toEqual({
      n0: { code: 'Unschedulable', reasons: ['a reason'] },
      n1: { code: 'Unschedulable', reasons: ['b reason'] },
    });
    expect([a.calls, b.calls]).toEqual([3, 2]);
  });

  it('does not run the Filter of a plugin whose PreFilter skipped', () => {
    const skipping = { ...filterOf('Skipper', () => true), preFilter: (): typeof SKIP => SKIP };
    const r = findNodesThatFit({ filters: [skipping], scores: [] }, new CycleState(), pod, nodes(3), 0);
    expect(r.feasible).toHaveLength(3);
    expect(skipping.calls).toBe(0);
  });

  it('stops at a PreFilter rejection without looking at nodes', () => {
    const rejecting = {
      ...filterOf('Rejector', () => false),
      preFilter: (): PluginStatus => ({ code: 'UnschedulableAndUnresolvable', reasons: ['not today'] }),
    };
    const later = filterOf('Later', () => false);
    const r = findNodesThatFit(
      { filters: [rejecting, later], scores: [] },
      new CycleState(),
      pod,
      nodes(3),
      1,
    );
    expect(r.feasible).toEqual([]);
    expect(r.preFilterStatus?.reasons).toEqual(['not today']);
    expect(later.calls).toBe(0);
    expect(fitError(3, r.statuses, r)).toBe('0/3 nodes are available: not today.');
  });

  it('intersects the nodes PreFilters name, and rejects the pod when nothing is left', () => {
    const naming = (name: string, ...nodeNames: string[]) => ({
      ...filterOf(name, () => false),
      preFilter: () => ({ nodeNames: new Set(nodeNames) }),
    });
    const both = findNodesThatFit(
      { filters: [naming('B', 'n0', 'n1'), naming('A', 'n1', 'n2')], scores: [] },
      new CycleState(),
      pod,
      nodes(3),
      0,
    );
    expect(both.feasible.map((n) => n.name)).toEqual(['n1']);
    const none = findNodesThatFit(
      { filters: [naming('B', 'n0'), naming('A', 'n2')], scores: [] },
      new CycleState(),
      pod,
      nodes(3),
      0,
    );
    expect(fitError(3, none.statuses, none)).toBe(
      "0/3 nodes are available: node(s) didn't satisfy plugin(s) [A B] simultaneously.",
    );
  });

  it('looks only at the nodes a PreFilter named, and reports the rest under its name', () => {
    const snapshot = snapshotOf(
      [makeNode('a')],
      [makeNode('b', { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } })],
      [makeNode('c')],
    );
    const daemon = podInfo(
      makePod('ds', {
        requests: { cpu: '2' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                // The second term names a node the snapshot does not have.
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] },
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gone'] }] },
              ],
            },
          },
        },
      }),
    );
    const r = findNodesThatFit(defaultPlugins(), new CycleState(), daemon, snapshot, 0);
    expect(r.feasible).toEqual([]);
    expect([...r.statuses.keys()]).toEqual(['b']);
    expect(fitError(3, r.statuses, r)).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });
});

describe('fitError', () => {
  const status = (...reasons: string[]): PluginStatus => ({ code: 'Unschedulable', reasons });

  it('counts each reason over the nodes and sorts the entries as strings', () => {
    const statuses = new Map([
      ['n1', status('Insufficient cpu')],
      ['n2', status('Insufficient cpu', 'Insufficient memory')],
      ['n3', status('Insufficient cpu')],
      ['n4', status('node(s) had untolerated taint {dedicated: infra}')],
      ['n5', status('node(s) had untolerated taint {dedicated: infra}')],
    ]);
    expect(fitError(5, statuses)).toBe(
      '0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: infra}, 3 Insufficient cpu.',
    );
  });

  it('sorts counts as text, as upstream’s sort.Strings does ("10 …" before "9 …")', () => {
    const statuses = new Map<string, PluginStatus>();
    for (let i = 0; i < 10; i++) statuses.set(`a${i}`, status('Too many pods'));
    for (let i = 0; i < 9; i++)
      statuses.set(`b${i}`, status("node(s) didn't match Pod's node affinity/selector"));
    expect(fitError(19, statuses)).toBe(
      "0/19 nodes are available: 10 Too many pods, 9 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it('joins a PreFilter’s reasons instead of the histogram', () => {
    expect(fitError(4, new Map([['n1', status('x')]]), { preFilterStatus: status('one', 'two') })).toBe(
      '0/4 nodes are available: one, two.',
    );
  });
});

describe('prioritizeNodes', () => {
  const scorer = (
    name: string,
    weight: number,
    raw: (n: NodeInfo) => number,
    normalize?: ScorePlugin['normalize'],
  ): ScorePlugin => ({
    name,
    weight,
    score: (_s, _p, n) => raw(n),
    normalize,
  });

  it('normalises each plugin, multiplies by its weight and sums', () => {
    const snapshot = nodes(3);
    const doubled = (_s: CycleState, _p: unknown, scores: NodeScore[]) => {
      for (const s of scores) s.score = Math.min(MAX_NODE_SCORE, s.score * 2);
    };
    const profile: Profile = {
      filters: [],
      scores: [scorer('A', 1, (n) => index(n) * 10), scorer('B', 3, (n) => 10 + index(n) * 40, doubled)],
    };
    const totals = prioritizeNodes(profile, new CycleState(), pod, snapshot.nodes, snapshot);
    // A: 0, 10, 20; B: 20, 100, 100 (doubled, capped) × 3.
    expect(totals).toEqual([
      { name: 'n0', score: 60 },
      { name: 'n1', score: 310 },
      { name: 'n2', score: 320 },
    ]);
  });

  it('leaves out plugins whose PreScore skipped, and scores 1 each without score plugins', () => {
    const snapshot = nodes(2);
    const skipped: ScorePlugin = { ...scorer('S', 5, () => 100), preScore: () => SKIP };
    expect(
      prioritizeNodes(
        { filters: [], scores: [skipped, scorer('A', 1, index)] },
        new CycleState(),
        pod,
        snapshot.nodes,
        snapshot,
      ),
    ).toEqual([
      { name: 'n0', score: 0 },
      { name: 'n1', score: 1 },
    ]);
    expect(
      prioritizeNodes({ filters: [], scores: [] }, new CycleState(), pod, snapshot.nodes, snapshot),
    ).toEqual([
      { name: 'n0', score: 1 },
      { name: 'n1', score: 1 },
    ]);
  });
});

describe('selectHost', () => {
  const scores = [
    { name: 'a', score: 5 },
    { name: 'b', score: 7 },
    { name: 'c', score: 7 },
    { name: 'd', score: 7 },
  ];

  it('picks the highest score; ties go by the random source', () => {
    expect(
      selectHost(
        [
          { name: 'x', score: 1 },
          { name: 'y', score: 3 },
          { name: 'z', score: 2 },
        ],
        () => 0,
      ),
    ).toBe('y');
    expect(selectHost(scores, () => 0.999)).toBe('b'); // never replaces the first of the tie
    expect(selectHost(scores, () => 0)).toBe('d'); // always replaces
  });

  it('spreads ties uniformly', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    for (let i = 0; i < 3000; i++) counts[selectHost(scores, random)]++;
    expect(counts.a).toBe(0);
    for (const n of ['b', 'c', 'd']) {
      expect(counts[n]).toBeGreaterThan(900);
      expect(counts[n]).toBeLessThan(1100);
    }
  });

  it('refuses an empty list', () => {
    expect(() => selectHost([])).toThrow('empty priorityList');
  });
});

describe('schedulePod with the default plugins', () => {
  it('names the reasons when no node fits', () => {
    const taint = { key: 'dedicated', value: 'infra', effect: 'NoSchedule' };
    const small = { cpu: '500m', memory: '4Gi', pods: '110' };
    const snapshot = new NodeSnapshot([
      makeNode('s1', { allocatable: small }),
      makeNode('s2', { allocatable: small }),
      makeNode('s3', { allocatable: small }),
      makeNode('t1', { taints: [taint] }),
      makeNode('t2', { taints: [taint] }),
    ]);
    const result = schedulePod(
      defaultPlugins(),
      podInfo(makePod('p', { requests: { cpu: '1' } })),
      snapshot,
      2,
    );
    expect(result).toMatchObject({
      error:
        '0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: infra}, 3 Insufficient cpu.',
      nextStartIndex: 2,
    });
  });

  it('says so when there are no nodes at all', () => {
    expect(schedulePod(defaultPlugins(), pod, new NodeSnapshot())).toMatchObject({
      error: 'no nodes available to schedule pods',
    });
  });

  it('takes the only feasible node without scoring, and otherwise the best scored', () => {
    const snapshot = new NodeSnapshot([
      makeNode('busy'),
      makeNode('idle'),
      makeNode('cordoned', { unschedulable: true }),
    ]);
    snapshot.addPod('busy', podInfo(makePod('e', { requests: { cpu: '3', memory: '16Gi' } })));
    const p = podInfo(makePod('p', { requests: { cpu: '500m', memory: '1Gi' } }));
    expect(schedulePod(defaultPlugins(), p, snapshot, 0, () => 0)).toEqual({
      nodeName: 'idle',
      evaluatedNodes: 3,
      feasibleNodes: 2,
      nextStartIndex: 0,
    });
    const pinned = podInfo(makePod('q', { nodeName: 'busy' }));
    expect(schedulePod(defaultPlugins(), pinned, snapshot)).toMatchObject({
      nodeName: 'busy',
      feasibleNodes: 1,
    });
  });
});

describe('defaultPlugins', () => {
  it('lists upstream’s filters and scores in order, with upstream’s weights', () => {
    const profile = defaultPlugins();
    expect(profile.filters.map((p) => p.name)).toEqual([
      'NodeUnschedulable',
      'NodeName',
      'TaintToleration',
      'NodeAffinity',
      'NodePorts',
      'NodeResourcesFit',
      'PodTopologySpread',
      'InterPodAffinity',
    ]);
    expect(profile.scores.map((p) => [p.name, p.weight])).toEqual([
      ['TaintToleration', 3],
      ['NodeAffinity', 2],
      ['NodeResourcesFit', 1],
      ['PodTopologySpread', 2],
      ['InterPodAffinity', 2],
      ['NodeResourcesBalancedAllocation', 1],
      ['ImageLocality', 1],
    ]);
  });
});
