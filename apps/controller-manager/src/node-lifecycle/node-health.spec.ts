import { describe, expect, it } from '@jest/globals';

import { assessNodeHealth, type NodeHealth } from './node-health.js';
import { type Node, type NodeCondition, type NodeLease } from './node-types.js';

// After TestMonitorNodeHealthUpdateStatus and TestMonitorNodeHealthUpdateNodeAndPodStatusWithLease
// (pkg/controller/nodelifecycle/node_lifecycle_controller_test.go): fake clock, 5 s grace.
const T0 = Date.parse('2015-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const timings = { gracePeriodMs: 5_000, startupGracePeriodMs: 60_000 };

const condition = (type: string, status: string, at: number): NodeCondition => ({
  type,
  status,
  lastHeartbeatTime: iso(at),
  lastTransitionTime: iso(at),
});
const node = (conditions?: NodeCondition[]): Node => ({
  metadata: { name: 'node0', creationTimestamp: iso(T0), resourceVersion: '7' },
  status: conditions ? { conditions } : {},
});
const lease = (renewedAt: number): NodeLease => ({
  metadata: { name: 'node0', namespace: 'kube-node-lease' },
  spec: { renewTime: new Date(renewedAt).toISOString() },
});
const healthy = (at: number) =>
  node([
    condition('Ready', 'True', at),
    condition('MemoryPressure', 'False', at),
    condition('DiskPressure', 'False', at),
    condition('PIDPressure', 'False', at),
    condition('NetworkUnavailable', 'False', at),
  ]);

describe('assessNodeHealth (tryUpdateNodeHealth)', () => {
  it('sets every condition Unknown ("never updated") for a node that never posted status, after the startup grace', () => {
    const now = T0 + 61_000;
    const a = assessNodeHealth(node(), undefined, undefined, now, timings);
    expect(a.observedReady).toMatchObject({ type: 'Ready', status: 'Unknown' });
    expect(a.write?.status.conditions).toEqual(
      ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: iso(T0),
        lastTransitionTime: iso(now),
      })),
    );
  });

  it('leaves a node that never posted status alone within the startup grace', () => {
    const a = assessNodeHealth(node(), undefined, undefined, T0 + 30_000, timings);
    expect(a.write).toBeUndefined();
    expect(a.currentReady).toBeUndefined();
  });

  it('gives a newly seen node a probe time of now, so it is not judged on the spot', () => {
    const a = assessNodeHealth(healthy(T0), undefined, undefined, T0 + 3_600_000, timings);
    expect(a.write).toBeUndefined();
    expect(a.health.probeTimestamp).toBe(T0 + 3_600_000);
    expect(a.currentReady?.status).toBe('True');
  });

  it('turns Ready, MemoryPressure, DiskPressure and PIDPressure Unknown once silent past the grace, NetworkUnavailable not', () => {
    const first = assessNodeHealth(healthy(T0), undefined, undefined, T0, timings);
    const now = T0 + 6_000;
    const a = assessNodeHealth(healthy(T0), first.health, undefined, now, timings);
    expect(a.observedReady.status).toBe('True');
    expect(a.currentReady).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    const byType = Object.fromEntries(a.write!.status.conditions!.map((c) => [c.type, c]));
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'])
      expect(byType[type]).toEqual({
        type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastHeartbeatTime: iso(T0),
        lastTransitionTime: iso(now),
      });
    expect(byType.NetworkUnavailable.status).toBe('False');
    expect(a.write!.health.readyTransitionTimestamp).toBe(now);
  });

  it('counts a new heartbeat on the Ready condition as a probe', () => {
    const first = assessNodeHealth(healthy(T0), undefined, undefined, T0, timings);
    const a = assessNodeHealth(healthy(T0 + 4_000), first.health, undefined, T0 + 8_000, timings);
    expect(a.write).toBeUndefined();
    expect(a.health.probeTimestamp).toBe(T0 + 8_000);
  });

  it('counts a renewed Lease as a probe even when the status is old', () => {
    const first = assessNodeHealth(healthy(T0), undefined, lease(T0), T0, timings);
    const renewed = assessNodeHealth(healthy(T0), first.health, lease(T0 + 4_000), T0 + 4_000, timings);
    expect(renewed.health.probeTimestamp).toBe(T0 + 4_000);
    const later = assessNodeHealth(healthy(T0), renewed.health, lease(T0 + 4_000), T0 + 8_000, timings);
    expect(later.write).toBeUndefined();
    const silent = assessNodeHealth(healthy(T0), later.health, lease(T0 + 4_000), T0 + 9_500, timings);
    expect(silent.write).toBeDefined();
  });

  it('does not write a node already Unknown again', () => {
    const unknown = node([{ ...condition('Ready', 'Unknown', T0), reason: 'NodeStatusUnknown' }]);
    const saved: NodeHealth = { status: unknown.status, probeTimestamp: T0, readyTransitionTimestamp: T0 };
    const a = assessNodeHealth(unknown, saved, undefined, T0 + 60_000, timings);
    expect(a.write).toBeUndefined();
    expect(a.currentReady?.status).toBe('Unknown');
  });

  it('moves the ready transition time when the condition changed between heartbeats', () => {
    const first = assessNodeHealth(healthy(T0), undefined, undefined, T0, timings);
    const flipped = node([condition('Ready', 'False', T0 + 2_000)]);
    const a = assessNodeHealth(flipped, first.health, undefined, T0 + 3_000, timings);
    expect(a.health).toMatchObject({ probeTimestamp: T0 + 3_000, readyTransitionTimestamp: T0 + 3_000 });
  });
});
