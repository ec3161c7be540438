import { describe, expect, it } from '@jest/globals';

import { daemonPodTolerations, nodeShouldRunDaemonPod } from './node-eligibility.js';
import { ds, node } from './test-objects.js';

const affinity = (key: string, values: string[]) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key, operator: 'In', values }] }],
    },
  },
});

describe('nodeShouldRunDaemonPod (daemonset_util_test.go, daemon_controller_test.go cases)', () => {
  it('runs on a plain node', () => {
    expect(nodeShouldRunDaemonPod(node('n'), ds())).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });

  it('follows nodeSelector, nodeName and required node affinity', () => {
    const selected = ds({}, { nodeSelector: { disk: 'ssd' } });
    expect(nodeShouldRunDaemonPod(node('n', { disk: 'ssd' }), selected).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(node('n', { disk: 'hdd' }), selected)).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    expect(nodeShouldRunDaemonPod(node('other'), ds({}, { nodeName: 'n' })).shouldContinueRunning).toBe(
      false,
    );
    expect(nodeShouldRunDaemonPod(node('n'), ds({}, { nodeName: 'n' })).shouldRun).toBe(true);
    const affine = ds({}, { affinity: affinity('zone', ['a', 'b']) });
    expect(nodeShouldRunDaemonPod(node('n', { zone: 'b' }), affine).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(node('n', { zone: 'c' }), affine).shouldContinueRunning).toBe(false);
  });

  it('an untolerated NoSchedule taint keeps new pods off but lets a running one stay; NoExecute evicts', () => {
    const noSchedule = node('n', {}, { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] });
    expect(nodeShouldRunDaemonPod(noSchedule, ds())).toEqual({
      shouldRun: false,
      shouldContinueRunning: true,
    });
    const noExecute = node('n', {}, { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }] });
    expect(nodeShouldRunDaemonPod(noExecute, ds())).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    const tolerated = ds({}, { tolerations: [{ key: 'k', operator: 'Exists' }] });
    expect(nodeShouldRunDaemonPod(noExecute, tolerated).shouldRun).toBe(true);
    const prefer = node('n', {}, { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] });
    expect(nodeShouldRunDaemonPod(prefer, ds()).shouldRun).toBe(true);
  });

  it('tolerates the node-problem taints: not-ready, unreachable, pressure, unschedulable; network-unavailable only with hostNetwork', () => {
    for (const [key, effect] of [
      ['node.kubernetes.io/not-ready', 'NoExecute'],
      ['node.kubernetes.io/unreachable', 'NoExecute'],
      ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
      ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
      ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
      ['node.kubernetes.io/unschedulable', 'NoSchedule'],
    ])
      expect(nodeShouldRunDaemonPod(node('n', {}, { taints: [{ key, effect }] }), ds()).shouldRun).toBe(true);
    const unavailable = node(
      'n',
      {},
      { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] },
    );
    expect(nodeShouldRunDaemonPod(unavailable, ds()).shouldRun).toBe(false);
    expect(nodeShouldRunDaemonPod(unavailable, ds({}, { hostNetwork: true })).shouldRun).toBe(true);
  });
});

describe('daemonPodTolerations (AddOrUpdateDaemonPodTolerations)', () => {
  it('replaces a matching toleration (dropping its tolerationSeconds) and keeps the others', () => {
    const t = daemonPodTolerations({
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        } as never,
        { key: 'mine', operator: 'Exists' },
      ],
    });
    expect(t[0]).toEqual({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
    expect(t[1]).toEqual({ key: 'mine', operator: 'Exists' });
    expect(t).toHaveLength(7);
  });
});
