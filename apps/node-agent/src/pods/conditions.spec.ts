import { describe, expect, it } from '@jest/globals';

import { type ContainerStatusApi, type PodSpec } from '../api-types.js';
import {
  containersReadyCondition,
  mergeConditions,
  podInitializedCondition,
  podReadyCondition,
} from './conditions.js';
import { pullPolicyOf, withDefaultTag } from './images.js';

const st = (
  name: string,
  ready: boolean,
  state: ContainerStatusApi['state'] = { running: {} },
): ContainerStatusApi => ({
  name,
  ready,
  state,
  image: '',
  imageID: '',
  restartCount: 0,
});

const spec: PodSpec = {
  initContainers: [{ name: 'i1' }, { name: 'i2' }],
  containers: [{ name: 'a' }, { name: 'b' }],
};

// pkg/kubelet/status/generate_test.go
describe('pod conditions (status/generate.go)', () => {
  it('Initialized: unknown and incomplete init containers are named, Go-style', () => {
    expect(podInitializedCondition(spec, [], [], 'Pending')).toEqual({
      type: 'Initialized',
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with unknown status: [i1 i2]',
    });
    expect(podInitializedCondition(spec, [st('i1', true), st('i2', false)], [], 'Pending')).toMatchObject({
      status: 'False',
      message: 'containers with incomplete status: [i2]',
    });
    expect(podInitializedCondition(spec, [st('i1', true), st('i2', true)], [], 'Pending')).toEqual({
      type: 'Initialized',
      status: 'True',
    });
    expect(podInitializedCondition(spec, [st('i1', true), st('i2', true)], [], 'Succeeded')).toEqual({
      type: 'Initialized',
      status: 'True',
      reason: 'PodCompleted',
    });
    // A regular container has started: initialized before, whatever the init statuses say now.
    expect(podInitializedCondition(spec, [], [st('a', false)], 'Running')).toEqual({
      type: 'Initialized',
      status: 'True',
    });
  });

  it('ContainersReady and Ready: unready and unknown containers, completed and failed pods', () => {
    expect(containersReadyCondition(spec, [], [st('a', true), st('b', true)], 'Running')).toEqual({
      type: 'ContainersReady',
      status: 'True',
    });
    expect(containersReadyCondition(spec, [], [st('a', false)], 'Running')).toEqual({
      type: 'ContainersReady',
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unknown status: [b], containers with unready status: [a]',
    });
    expect(containersReadyCondition(spec, [], [st('a', false), st('b', false)], 'Succeeded')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
    expect(containersReadyCondition(spec, [], [st('a', false), st('b', false)], 'Failed')).toMatchObject({
      status: 'False',
      reason: 'PodFailed',
    });
    const notReady = containersReadyCondition(spec, [], [st('a', false), st('b', true)], 'Running');
    expect(podReadyCondition(spec, notReady, [])).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [a]',
    });
  });

  it('Ready waits for readiness gates', () => {
    const gated: PodSpec = { ...spec, readinessGates: [{ conditionType: 'example.com/lb' }] };
    const ready = { type: 'ContainersReady', status: 'True' };
    expect(podReadyCondition(gated, ready, [])).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
    });
    expect(podReadyCondition(gated, ready, [{ type: 'example.com/lb', status: 'True' }])).toEqual({
      type: 'Ready',
      status: 'True',
    });
  });

  it('merging keeps others’ conditions and a condition’s transition time while its status stays', () => {
    const merged = mergeConditions(
      [
        { type: 'example.com/lb', status: 'True', lastTransitionTime: 't0' },
        { type: 'Ready', status: 'False', lastTransitionTime: 't1' },
        { type: 'Initialized', status: 'True', lastTransitionTime: 't2' },
      ],
      [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      'now',
    );
    expect(merged).toEqual([
      { type: 'example.com/lb', status: 'True', lastTransitionTime: 't0' },
      { type: 'Initialized', status: 'True', lastTransitionTime: 't2' },
      { type: 'Ready', status: 'True', lastTransitionTime: 'now' },
    ]);
  });
});

// pkg/apis/core/v1/defaults_test.go TestSetDefaultImagePullPolicy
describe('image pull policy defaults', () => {
  it.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['registry.local:5000/busybox', 'Always'],
    ['registry.local:5000/busybox:1', 'IfNotPresent'],
    ['busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
  ])('%s pulls %s', (image, policy) => {
    expect(pullPolicyOf({ name: 'c', image })).toBe(policy);
  });
  it('an explicit policy wins; an untagged reference means :latest', () => {
    expect(pullPolicyOf({ name: 'c', image: 'busybox', imagePullPolicy: 'Never' })).toBe('Never');
    expect(withDefaultTag('busybox')).toBe('busybox:latest');
    expect(withDefaultTag('registry.local:5000/busybox')).toBe('registry.local:5000/busybox:latest');
    expect(withDefaultTag('busybox:1')).toBe('busybox:1');
  });
});
