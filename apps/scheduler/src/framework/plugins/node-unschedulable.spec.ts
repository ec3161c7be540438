import { describe, expect, it } from '@jest/globals';

import { filterReasons, makeNode, makePod, runFilter, snapshotOf } from '../test-fixtures.js';
import { NodeUnschedulable } from './node-unschedulable.js';

describe('NodeUnschedulable', () => {
  const plugin = new NodeUnschedulable();
  const snapshot = snapshotOf([makeNode('cordoned', { unschedulable: true })], [makeNode('open')]);

  it('keeps pods off cordoned nodes with upstream’s reason', () => {
    expect(filterReasons(plugin, makePod('p'), snapshot)).toEqual({
      cordoned: ['node(s) were unschedulable'],
      open: [],
    });
  });

  it('lets a pod that tolerates node.kubernetes.io/unschedulable:NoSchedule through', () => {
    const tolerating = makePod('p', {
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(filterReasons(plugin, tolerating, snapshot)).toEqual({ cordoned: [], open: [] });
    const everything = makePod('q', { tolerations: [{ operator: 'Exists' }] });
    expect(filterReasons(plugin, everything, snapshot).cordoned).toEqual([]);
    const wrongEffect = makePod('r', {
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }],
    });
    expect(filterReasons(plugin, wrongEffect, snapshot).cordoned).toEqual(['node(s) were unschedulable']);
  });

  it('reports the failure as unresolvable (preemption would not help)', () => {
    expect(runFilter(plugin, makePod('p'), snapshot).cordoned?.code).toBe('UnschedulableAndUnresolvable');
  });
});
