import { describe, expect, it } from '@jest/globals';

import { type Container, type ContainerStatusApi, type PodSpec } from '../api-types.js';
import { getPhase } from './phase.js';

// The fixtures of pkg/kubelet/kubelet_pods_test.go TestPodPhase*.
const running = (name: string): ContainerStatusApi => st(name, { state: { running: {} } });
const stopped = (name: string, exitCode = 0): ContainerStatusApi =>
  st(name, { state: { terminated: { exitCode } } });
const waiting = (name: string): ContainerStatusApi => st(name, { state: { waiting: {} } });
const waitingWithLastTermination = (name: string, exitCode = 0): ContainerStatusApi =>
  st(name, { state: { waiting: {} }, lastState: { terminated: { exitCode } } });

function st(name: string, s: Partial<ContainerStatusApi>): ContainerStatusApi {
  return { name, image: '', imageID: '', ready: false, restartCount: 0, ...s };
}

function spec(restartPolicy: PodSpec['restartPolicy'], o: { init?: Container[] } = {}): PodSpec {
  return {
    nodeName: 'machine',
    containers: [{ name: 'containerA' }, { name: 'containerB' }],
    ...(o.init ? { initContainers: o.init } : {}),
    restartPolicy,
  };
}

type Case = [string, ContainerStatusApi[], string];

describe('getPhase (kubelet_pods.go), upstream TestPodPhase cases', () => {
  const always: Case[] = [
    ['waiting', [], 'Pending'],
    ['all running', [running('containerA'), running('containerB')], 'Running'],
    ['all stopped with restart always', [stopped('containerA'), stopped('containerB')], 'Running'],
    ['mixed state #1 with restart always', [stopped('containerA'), running('containerB')], 'Running'],
    ['mixed state #2 with restart always', [running('containerA')], 'Pending'],
    ['mixed state #3 with restart always', [running('containerA'), waiting('containerB')], 'Pending'],
    [
      'backoff crashloop container with restart always',
      [running('containerA'), waitingWithLastTermination('containerB')],
      'Running',
    ],
    [
      'all containers terminated with unknown status under restart always',
      [
        st('containerA', { state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } }),
        st('containerB', { state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } }),
      ],
      'Running',
    ],
  ];
  it.each(always)('Always: %s', (_name, statuses, phase) => {
    expect(getPhase(spec('Always'), statuses, false)).toBe(phase);
  });

  const never: Case[] = [
    ['all running with restart never', [running('containerA'), running('containerB')], 'Running'],
    ['all succeeded with restart never', [stopped('containerA'), stopped('containerB')], 'Succeeded'],
    ['all failed with restart never', [stopped('containerA', -1), stopped('containerB', -1)], 'Failed'],
    ['mixed state #1 with restart never', [running('containerA'), stopped('containerB')], 'Running'],
    ['mixed state #2 with restart never', [running('containerA')], 'Pending'],
    ['mixed state #3 with restart never', [running('containerA'), waiting('containerB')], 'Pending'],
  ];
  it.each(never)('Never: %s', (_name, statuses, phase) => {
    expect(getPhase(spec('Never'), statuses, false)).toBe(phase);
  });

  const onFailure: Case[] = [
    ['all running with restart onfailure', [running('containerA'), running('containerB')], 'Running'],
    ['all succeeded with restart onfailure', [stopped('containerA'), stopped('containerB')], 'Succeeded'],
    ['all failed with restart onfailure', [stopped('containerA', -1), stopped('containerB', -1)], 'Running'],
    ['mixed state #1 with restart onfailure', [running('containerA'), stopped('containerB')], 'Running'],
    ['mixed state #2 with restart onfailure', [running('containerA')], 'Pending'],
    ['mixed state #3 with restart onfailure', [running('containerA'), waiting('containerB')], 'Pending'],
    [
      'backoff crashloop container with restart onfailure',
      [running('containerA'), waitingWithLastTermination('containerB')],
      'Running',
    ],
  ];
  it.each(onFailure)('OnFailure: %s', (_name, statuses, phase) => {
    expect(getPhase(spec('OnFailure'), statuses, false)).toBe(phase);
  });

  const init = [{ name: 'containerX' }];
  const initAlways: Case[] = [
    ['init container running', [running('containerX')], 'Pending'],
    ['init container terminated non-zero', [stopped('containerX', -1)], 'Pending'],
    ['init container waiting, terminated zero', [waitingWithLastTermination('containerX')], 'Pending'],
    [
      'init container waiting, terminated non-zero',
      [waitingWithLastTermination('containerX', -1)],
      'Pending',
    ],
    ['init container waiting, not terminated', [waiting('containerX')], 'Pending'],
    [
      'init container succeeded',
      [stopped('containerX'), running('containerA'), running('containerB')],
      'Running',
    ],
  ];
  it.each(initAlways)('Always with init containers: %s', (_name, statuses, phase) => {
    expect(getPhase(spec('Always', { init }), statuses, false)).toBe(phase);
  });

  const initNever: Case[] = [
    ['init container running', [running('containerX')], 'Pending'],
    ['init container terminated non-zero', [stopped('containerX', -1)], 'Failed'],
    ['init container waiting, terminated zero', [waitingWithLastTermination('containerX')], 'Pending'],
    ['init container waiting, terminated non-zero', [waitingWithLastTermination('containerX', -1)], 'Failed'],
    ['init container waiting, not terminated', [waiting('containerX')], 'Pending'],
    [
      'init container succeeded',
      [stopped('containerX'), running('containerA'), running('containerB')],
      'Running',
    ],
  ];
  it.each(initNever)('Never with init containers: %s', (_name, statuses, phase) => {
    expect(getPhase(spec('Never', { init }), statuses, false)).toBe(phase);
  });

  it('a terminal pod is Succeeded or Failed whatever its restart policy', () => {
    expect(getPhase(spec('Always'), [stopped('containerA'), stopped('containerB')], true)).toBe('Succeeded');
    expect(getPhase(spec('Always'), [stopped('containerA'), stopped('containerB', 1)], true)).toBe('Failed');
    expect(getPhase(spec('OnFailure'), [stopped('containerA', 2), stopped('containerB')], true)).toBe(
      'Failed',
    );
  });

  describe('sidecar (restartable init) containers', () => {
    const sidecar = [{ name: 'sidecar', restartPolicy: 'Always' } as Container];
    it('pending until the sidecar has started, running after', () => {
      const s = spec('Always', { init: sidecar });
      expect(getPhase(s, [st('sidecar', { state: { running: {} }, started: false })], false)).toBe('Pending');
      expect(
        getPhase(
          s,
          [
            st('sidecar', { state: { running: {} }, started: true }),
            running('containerA'),
            running('containerB'),
          ],
          false,
        ),
      ).toBe('Running');
    });
    it('a restarting sidecar does not send an initialized pod back to Pending', () => {
      const s = spec('Always', { init: sidecar });
      expect(
        getPhase(
          s,
          [
            st('sidecar', { state: { running: {} }, started: false }),
            running('containerA'),
            running('containerB'),
          ],
          false,
        ),
      ).toBe('Running');
    });
    it('a terminal pod takes its phase from the regular containers: a sidecar’s exit code does not count', () => {
      const s = spec('Never', { init: sidecar });
      expect(getPhase(s, [stopped('sidecar', 143), stopped('containerA'), stopped('containerB')], true)).toBe(
        'Succeeded',
      );
      expect(getPhase(s, [stopped('sidecar'), stopped('containerA', 1), stopped('containerB')], true)).toBe(
        'Failed',
      );
    });
  });
});
