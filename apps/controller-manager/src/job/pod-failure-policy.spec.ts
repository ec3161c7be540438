import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import { matchPodFailurePolicy, type PodFailurePolicy } from './pod-failure-policy.js';

const failed = (exits: Record<string, number>, conditions: { type: string; status: string }[] = []): Pod => ({
  metadata: { namespace: 'ns', name: 'p' },
  status: {
    phase: 'Failed',
    conditions,
    containerStatuses: Object.entries(exits).map(([name, exitCode]) => ({
      name,
      state: { terminated: { exitCode } },
    })) as never,
  },
});

// After upstream's pod_failure_policy_test.go (TestMatchPodFailurePolicy).
describe('podFailurePolicy', () => {
  const policy: PodFailurePolicy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
    ],
  };

  it('fails the Job on a matching exit code, naming the container, pod and rule', () => {
    expect(matchPodFailurePolicy(policy, failed({ side: 0, main: 42 }))).toEqual({
      jobFailureMessage:
        'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1',
      countFailed: true,
      action: 'FailJob',
    });
  });

  it('ignores a disruption (condition status defaults to True) and counts by default', () => {
    expect(
      matchPodFailurePolicy(policy, failed({ main: 42 }, [{ type: 'DisruptionTarget', status: 'True' }])),
    ).toEqual({ countFailed: false, action: 'Ignore' });
    expect(matchPodFailurePolicy(policy, failed({ main: 1 }))).toEqual({ countFailed: true });
    expect(matchPodFailurePolicy(policy, failed({ main: 7 }))).toEqual({
      countFailed: true,
      action: 'Count',
    });
  });

  it('never matches exit code 0 nor another container', () => {
    const only42: PodFailurePolicy = {
      rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'NotIn', values: [42] } }],
    };
    expect(matchPodFailurePolicy(only42, failed({ main: 0 }))).toEqual({ countFailed: true });
    expect(matchPodFailurePolicy(only42, failed({ side: 3 }))).toEqual({ countFailed: true });
  });
});
