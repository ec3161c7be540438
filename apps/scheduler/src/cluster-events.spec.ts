import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { ClusterEvents } from './cluster-events.js';
import { type KubeObject } from './framework/types.js';
import { podInfo } from './framework/pod-info.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';
import { SchedulerCache } from './scheduler-cache.js';

const node = (name: string, cpu = '4', extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
    ...extra,
  },
});
const pod = (
  name: string,
  o: { node?: string; status?: unknown; affinity?: unknown; rv?: string } = {},
): KubeObject => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: o.rv ?? '1' },
  spec: {
    ...(o.node ? { nodeName: o.node } : {}),
    ...(o.affinity ? { affinity: o.affinity } : {}),
    containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
  },
  ...(o.status ? { status: o.status } : {}),
});

describe('cluster events', () => {
  let queue: SchedulingQueue;
  let cache: SchedulerCache;
  let events: ClusterEvents;
  const requestedCpu = (n: string) => cache.snapshot().get(n)?.requested.milliCPU;
  const park = async (p: KubeObject) => {
    const before = queue.pending.unschedulable;
    events.pod({ type: 'added', object: p });
    const qp = await queue.pop();
    queue.unschedulableAfterAttempt(qp!);
    expect(queue.pending.unschedulable).toBe(before + 1);
  };

  beforeEach(() => {
    jest.useFakeTimers();
    queue = new SchedulingQueue({ initialBackoffMs: 0, maxBackoffMs: 0 });
    cache = new SchedulerCache();
    events = new ClusterEvents(cache, queue, 'default-scheduler');
    events.node({ type: 'added', object: node('n1') });
  });
  afterEach(() => {
    queue.close();
    jest.useRealTimers();
  });

  it('frees an assumed pod deleted before its binding was seen, whatever the last copy says', () => {
    const p = pod('a');
    cache.assume(podInfo(p), 'n1');
    expect(requestedCpu('n1')).toBe(1000);
    // The informer's last copy is unbound (it never saw the binding).
    events.pod({ type: 'deleted', object: p });
    expect(requestedCpu('n1')).toBe(0);
  });

  it('confirms an assumed pod when its binding arrives, and frees it when it finishes', () => {
    const p = pod('a');
    cache.assume(podInfo(p), 'n1');
    events.pod({ type: 'updated', object: pod('a', { node: 'n1', rv: '2' }), old: p });
    expect(requestedCpu('n1')).toBe(1000);
    expect(cache.assumedCount).toBe(0);
    events.pod({
      type: 'updated',
      object: pod('a', { node: 'n1', rv: '3', status: { phase: 'Succeeded' } }),
      old: p,
    });
    expect(requestedCpu('n1')).toBe(0);
  });

  it('keeps a parked pod parked through its own status update, but retries it when its spec changes', async () => {
    const p = pod('waiting');
    await park(p);
    const marked = pod('waiting', {
      rv: '2',
      status: { conditions: [{ type: 'PodScheduled', status: 'False' }] },
    });
    events.pod({ type: 'updated', object: marked, old: p });
    expect(queue.pending.unschedulable).toBe(1);
    const changed = { ...marked, metadata: { ...marked.metadata, labels: { tier: 'x' } } };
    events.pod({ type: 'updated', object: changed, old: marked });
    expect(queue.pending).toMatchObject({ unschedulable: 0, active: 1 });
  });

  it('retries parked pods when a node changes what filters read, not on a status heartbeat', async () => {
    await park(pod('waiting'));
    const before = node('n1');
    const heartbeat = node('n1', '4', { nodeInfo: { bootID: 'x' } });
    events.node({ type: 'updated', object: heartbeat, old: before });
    expect(queue.pending.unschedulable).toBe(1);
    events.node({ type: 'updated', object: node('n1', '8'), old: heartbeat });
    expect(queue.pending.unschedulable).toBe(0);
  });

  it('a pod newly bound retries only the parked pods with pod affinity', async () => {
    const affinity = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
    await park(pod('plain'));
    await park(pod('follower', { affinity }));
    expect(queue.pending.unschedulable).toBe(2);
    events.pod({ type: 'added', object: pod('cache', { node: 'n1' }) });
    expect(queue.pending).toMatchObject({ unschedulable: 1, active: 1 });
    expect((await queue.pop())?.key).toBe('ns/follower');
  });
});
