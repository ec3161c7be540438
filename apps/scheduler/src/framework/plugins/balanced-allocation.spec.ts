import { describe, expect, it } from '@jest/globals';

import { makeNode, makePod, runScore, snapshotOf } from '../test-fixtures.js';
import { balancedScore, NodeResourcesBalancedAllocation } from './balanced-allocation.js';

const node = (name: string, cpu: string, memory: string) =>
  makeNode(name, { allocatable: { cpu, memory, pods: '10' } });

describe('NodeResourcesBalancedAllocation', () => {
  it('scores 100 × (1 − |cpu share − memory share| / 2)', () => {
    const snapshot = snapshotOf([node('n1', '4', '10000')], [node('n2', '6', '10000')]);
    // n1: 3000/4000 = 0.75 and 5000/10000 = 0.5 → std 0.125 → 87; n2: 0.5 and 0.5 → 100.
    const pod = makePod('p', { requests: { cpu: '3', memory: '5000' } });
    expect(runScore(new NodeResourcesBalancedAllocation(), pod, snapshot)).toEqual({ n1: 87, n2: 100 });
  });

  it('counts the pods already on the node with their actual requests', () => {
    const snapshot = snapshotOf(
      [node('n1', '10', '20000'), [makePod('e', { requests: { cpu: '3', memory: '0' } })]],
      [node('n2', '10', '20000'), [makePod('e2', { requests: { cpu: '0', memory: '5000' } })]],
    );
    const pod = makePod('p', { requests: { cpu: '3', memory: '5000' } });
    // n1: 0.6 and 0.25 → std 0.175 → 82; n2: 0.3 and 0.5 → std 0.1 → 90.
    expect(runScore(new NodeResourcesBalancedAllocation(), pod, snapshot)).toEqual({ n1: 82, n2: 90 });
  });

  it('caps each share at 1 and leaves out a resource the node has none of', () => {
    expect(balancedScore(2, 0.5)).toBe(75);
    expect(balancedScore(undefined, 0.5)).toBe(100);
  });

  it('skips best-effort pods (no cpu or memory requests): every node scores 0', () => {
    const snapshot = snapshotOf([node('n1', '4', '10000')], [node('n2', '6', '10000')]);
    expect(runScore(new NodeResourcesBalancedAllocation(), makePod('p'), snapshot)).toEqual({ n1: 0, n2: 0 });
  });
});
