import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import {
  type GcNode,
  OUT_OF_SERVICE_TAINT,
  terminatedOverThreshold,
  terminatingOnOutOfServiceNodes,
  unscheduledTerminating,
} from './gc-selection.js';
import { NodeQuarantine } from './node-quarantine.js';

const pod = (
  name: string,
  o: { phase?: string; reason?: string; created?: number; node?: string; deleting?: boolean } = {},
): Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, o.created ?? 0)).toISOString(),
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T01:00:00Z' } : {}),
  },
  spec: o.node ? { nodeName: o.node } : {},
  status: { phase: o.phase ?? 'Running', ...(o.reason ? { reason: o.reason } : {}) },
});
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('PodGC selection (gc_controller.go)', () => {
  it('deletes the terminated pods over the threshold: evicted first, then oldest, the name breaking ties', () => {
    const pods = [
      pod('running-old', { created: 0 }),
      pod('done-3', { phase: 'Succeeded', created: 3 }),
      pod('done-1b', { phase: 'Failed', created: 1 }),
      pod('done-1a', { phase: 'Succeeded', created: 1 }),
      pod('evicted-9', { phase: 'Failed', reason: 'Evicted', created: 9 }),
      pod('done-5', { phase: 'Succeeded', created: 5 }),
    ];
    expect(names(terminatedOverThreshold(pods, 2))).toEqual(['evicted-9', 'done-1a', 'done-1b']);
    expect(terminatedOverThreshold(pods, 5)).toEqual([]);
    expect(terminatedOverThreshold(pods, 0)).toEqual([]);
  });

  it('takes terminating pods only on a NotReady node with the out-of-service taint', () => {
    const nodes: Record<string, GcNode> = {
      oos: {
        metadata: { name: 'oos' },
        spec: { taints: [{ key: OUT_OF_SERVICE_TAINT, effect: 'NoExecute' }] },
        status: { conditions: [{ type: 'Ready', status: 'False' }] },
      },
      readyTainted: {
        metadata: { name: 'readyTainted' },
        spec: { taints: [{ key: OUT_OF_SERVICE_TAINT, effect: 'NoExecute' }] },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      notReady: {
        metadata: { name: 'notReady' },
        status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
      },
    };
    const pods = [
      pod('a', { node: 'oos', deleting: true }),
      pod('b', { node: 'oos' }),
      pod('c', { node: 'readyTainted', deleting: true }),
      pod('d', { node: 'notReady', deleting: true }),
      pod('e', { node: 'missing', deleting: true }),
    ];
    expect(names(terminatingOnOutOfServiceNodes(pods, (n) => nodes[n]))).toEqual(['a']);
  });

  it('takes terminating pods never bound to a node', () => {
    const pods = [pod('a', { deleting: true }), pod('b', { deleting: true, node: 'n' }), pod('c')];
    expect(names(unscheduledTerminating(pods))).toEqual(['a']);
  });

  it('quarantines a missing node from when it was first seen missing', () => {
    const q = new NodeQuarantine(40);
    q.add('gone', 0);
    q.add('gone', 30);
    expect(q.takeDue(39)).toEqual([]);
    expect(q.takeDue(40)).toEqual(['gone']);
    expect(q.takeDue(100)).toEqual([]);
  });
});
