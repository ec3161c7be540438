import { describe, expect, it } from '@jest/globals';

import { type ResourceList } from '../resources.js';
import { filterReasons, makeNode, makePod, runFilter, runScore, snapshotOf } from '../test-fixtures.js';
import { NodeResourcesFit } from './node-resources-fit.js';

const node = (name: string, allocatable: ResourceList) => makeNode(name, { allocatable });
const pod = (name: string, requests: ResourceList) => makePod(name, { requests });

describe('NodeResourcesFit filter', () => {
  const alloc = { cpu: '10', memory: '20', pods: '32', 'example.com/aaa': '5', 'ephemeral-storage': '20' };
  const used = (requests: ResourceList) => snapshotOf([node('n', alloc), [pod('existing', requests)]]);
  const reasons = (requests: ResourceList, existing: ResourceList) =>
    filterReasons(new NodeResourcesFit(), pod('p', requests), used(existing)).n;

  it.each([
    ['no resources requested always fits', {}, { cpu: '10', memory: '20' }, []],
    [
      'too many resources fails',
      { cpu: '1', memory: '1' },
      { cpu: '10', memory: '20' },
      ['Insufficient cpu', 'Insufficient memory'],
    ],
    ['fits exactly', { cpu: '5', memory: '5' }, { cpu: '5', memory: '15' }, []],
    ['one resource memory fits', { cpu: '2', memory: '1' }, { cpu: '9', memory: '5' }, ['Insufficient cpu']],
    ['one resource cpu fits', { cpu: '1', memory: '2' }, { cpu: '5', memory: '19' }, ['Insufficient memory']],
    [
      'ephemeral storage',
      { 'ephemeral-storage': '10' },
      { 'ephemeral-storage': '15' },
      ['Insufficient ephemeral-storage'],
    ],
    ['extended resource fits', { 'example.com/aaa': '1' }, { 'example.com/aaa': '4' }, []],
    [
      'extended resource over',
      { 'example.com/aaa': '3' },
      { 'example.com/aaa': '3' },
      ['Insufficient example.com/aaa'],
    ],
    ['unknown extended resource', { 'example.com/bbb': '1' }, {}, ['Insufficient example.com/bbb']],
    ['zero extended resource request is ignored', { 'example.com/bbb': '0' }, {}, []],
  ] as [string, ResourceList, ResourceList, string[]][])('%s', (_name, requests, existing, expected) => {
    expect(reasons(requests, existing)).toEqual(expected);
  });

  it('counts init containers as the maximum, not the sum', () => {
    const initPod = makePod('p', {
      containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1' } } }],
      initContainers: [
        { name: 'i1', resources: { requests: { cpu: '3', memory: '1' } } },
        { name: 'i2', resources: { requests: { cpu: '2', memory: '1' } } },
      ],
    });
    expect(filterReasons(new NodeResourcesFit(), initPod, used({ cpu: '7' })).n).toEqual([]);
    expect(filterReasons(new NodeResourcesFit(), initPod, used({ cpu: '8' })).n).toEqual([
      'Insufficient cpu',
    ]);
  });

  it('reports "Too many pods" when the node is full, whatever the pod requests', () => {
    const full = snapshotOf([node('n', { cpu: '10', memory: '20', pods: '1' }), [pod('existing', {})]]);
    expect(filterReasons(new NodeResourcesFit(), pod('p', {}), full).n).toEqual(['Too many pods']);
    expect(filterReasons(new NodeResourcesFit(), pod('p', { cpu: '20' }), full).n).toEqual([
      'Too many pods',
      'Insufficient cpu',
    ]);
  });

  it('is resolvable while other pods hold the room, unresolvable when the node could never hold the pod', () => {
    expect(runFilter(new NodeResourcesFit(), pod('p', { cpu: '2' }), used({ cpu: '9' })).n?.code).toBe(
      'Unschedulable',
    );
    expect(runFilter(new NodeResourcesFit(), pod('p', { cpu: '11' }), used({})).n?.code).toBe(
      'UnschedulableAndUnresolvable',
    );
  });
});

describe('NodeResourcesFit score (LeastAllocated)', () => {
  it('scores the share left free, cpu and memory weighted 1:1', () => {
    const snapshot = snapshotOf(
      [node('n1', { cpu: '4', memory: '10000', pods: '10' })],
      [node('n2', { cpu: '6', memory: '10000', pods: '10' })],
    );
    // n1: cpu (4000-3000)/4000 = 25, memory (10000-5000)/10000 = 50 → 37; n2: 50 and 50 → 50.
    expect(runScore(new NodeResourcesFit(), pod('p', { cpu: '3', memory: '5000' }), snapshot)).toEqual({
      n1: 37,
      n2: 50,
    });
  });

  it('counts what is already on the node and treats unset requests as 100m / 200Mi', () => {
    const snapshot = snapshotOf(
      [node('n1', { cpu: '1', memory: '1000Mi', pods: '10' }), [pod('e', { cpu: '500m', memory: '500Mi' })]],
      [node('n2', { cpu: '1', memory: '1000Mi', pods: '10' })],
    );
    // n1: cpu (1000-600)/1000 = 40, memory (1000-700)/1000 = 30 → 35; n2: 90 and 80 → 85.
    expect(runScore(new NodeResourcesFit(), makePod('p'), snapshot)).toEqual({ n1: 35, n2: 85 });
  });

  it('scores 0 for a resource the node would be over-committed on', () => {
    const snapshot = snapshotOf([node('n', { cpu: '1', memory: '1000', pods: '10' })]);
    expect(runScore(new NodeResourcesFit(), pod('p', { cpu: '2', memory: '500' }), snapshot)).toEqual({
      n: 25,
    });
  });
});
