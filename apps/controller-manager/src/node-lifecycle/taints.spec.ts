import { describe, expect, it } from '@jest/globals';

import { type Node } from './node-types.js';
import { conditionTaints, noScheduleTaintChanges, swapTaints } from './taints.js';

const node = (conditions: [string, string][], taints: Node['spec'] = {}): Node => ({
  metadata: { name: 'n' },
  spec: taints,
  status: { conditions: conditions.map(([type, status]) => ({ type, status })) },
});

// After TestTaintsNodeByCondition (node_lifecycle_controller_test.go).
describe('TaintNodesByCondition', () => {
  it('maps conditions and spec.unschedulable to NoSchedule taints', () => {
    const n = node([
      ['Ready', 'Unknown'],
      ['MemoryPressure', 'True'],
      ['DiskPressure', 'True'],
      ['PIDPressure', 'True'],
      ['NetworkUnavailable', 'True'],
    ]);
    n.spec = { unschedulable: true };
    expect(conditionTaints(n).map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/network-unavailable:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    expect(conditionTaints(node([['Ready', 'False']]))).toEqual([
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
    ]);
    expect(
      conditionTaints(
        node([
          ['Ready', 'True'],
          ['MemoryPressure', 'False'],
        ]),
      ),
    ).toEqual([]);
  });

  it('adds what is missing and removes only its own stale taints, leaving others and NoExecute ones alone', () => {
    const n = node(
      [
        ['Ready', 'True'],
        ['DiskPressure', 'True'],
      ],
      {
        taints: [
          { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        ],
      },
    );
    expect(noScheduleTaintChanges(n)).toEqual({
      add: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }],
      remove: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
    });
  });
});

describe('swapTaints (SwapNodeControllerTaint)', () => {
  const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
  it('stamps added NoExecute taints with timeAdded and drops the swapped-out one', () => {
    expect(
      swapTaints(
        [
          { ...notReady, timeAdded: 'then' },
          { key: 'x', effect: 'NoSchedule' },
        ],
        [unreachable],
        [notReady],
        'now',
      ),
    ).toEqual([
      { key: 'x', effect: 'NoSchedule' },
      { ...unreachable, timeAdded: 'now' },
    ]);
  });
  it('changes nothing when the taint is there already or the removed one is absent', () => {
    expect(
      swapTaints([{ ...unreachable, timeAdded: 'then' }], [unreachable], [notReady], 'now'),
    ).toBeUndefined();
    expect(swapTaints(undefined, [], [unreachable, notReady], 'now')).toBeUndefined();
  });
  it('does not stamp NoSchedule taints', () => {
    expect(swapTaints([], [{ key: 'k', effect: 'NoSchedule' }], [], 'now')).toEqual([
      { key: 'k', effect: 'NoSchedule' },
    ]);
  });
});
