import { describe, expect, it } from '@jest/globals';

import { type Container, type ContainerStatusApi, type Pod } from '../api-types.js';
import { type RuntimeContainer } from '../runtime/index.js';
import { convertToApiContainerStatuses, type ContainerStatusInputs } from './container-statuses.js';
import { containerStatusFrom } from './engine-pod.js';
import { type RuntimeContainerStatus } from './runtime-pod.js';

const t0 = new Date('2026-11-22T08:00:00.123Z');
const t1 = new Date('2026-11-22T08:00:05.456Z');

function pod(
  containers: Container[],
  o: { init?: Container[]; restartPolicy?: 'Always' | 'Never' } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: {
      containers,
      ...(o.init ? { initContainers: o.init } : {}),
      restartPolicy: o.restartPolicy ?? 'Always',
    },
  };
}

function instance(name: string, o: Partial<RuntimeContainerStatus> = {}): RuntimeContainerStatus {
  return {
    id: `${name}-${o.restartCount ?? 0}`,
    name,
    state: 'running',
    restartCount: 0,
    image: 'img:1',
    imageID: 'docker://sha256:abc',
    startedAt: t0,
    ...o,
  };
}

function convert(
  p: Pod,
  containers: RuntimeContainerStatus[],
  o: Partial<ContainerStatusInputs> = {},
): ContainerStatusApi[] {
  return convertToApiContainerStatuses({
    pod: p,
    runtime: { uid: 'u1', sandboxes: [], containers },
    oldStatuses: [],
    containers: p.spec!.containers,
    list: 'regular',
    reason: () => undefined,
    killMessage: () => undefined,
    ready: () => true,
    started: () => true,
    ...o,
  });
}

describe('convertToAPIContainerStatuses (kubelet_pods.go)', () => {
  const c = (name: string): Container => ({ name, image: 'img:1' });

  it('a container without an instance waits in ContainerCreating, or PodInitializing when the pod has init containers', () => {
    expect(convert(pod([c('a')]), [])[0]).toMatchObject({
      name: 'a',
      image: 'img:1',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    });
    expect(convert(pod([c('a')], { init: [c('i')] }), [])[0]!.state).toEqual({
      waiting: { reason: 'PodInitializing' },
    });
  });

  it('a running instance: running since its start, ready and started as the probes say, docker:// ids', () => {
    const [s] = convert(pod([c('a')]), [instance('a', { restartCount: 2 })]);
    expect(s).toEqual({
      name: 'a',
      state: { running: { startedAt: '2026-11-22T08:00:00Z' } },
      ready: true,
      started: true,
      restartCount: 2,
      image: 'img:1',
      imageID: 'docker://sha256:abc',
      containerID: 'docker://a-2',
    });
    const [unready] = convert(pod([c('a')]), [instance('a')], { ready: () => false });
    expect(unready).toMatchObject({ ready: false, started: true });
  });

  it('the newest instance is the state, the one before it lastState; older ones are ignored', () => {
    const [s] = convert(
      pod([c('a')]),
      [
        instance('a', {
          restartCount: 2,
          state: 'exited',
          exitCode: 1,
          reason: 'Error',
          startedAt: t0,
          finishedAt: t1,
        }),
        instance('a', { restartCount: 1, state: 'exited', exitCode: 2, reason: 'Error' }),
        instance('a', { restartCount: 0, state: 'exited', exitCode: 3, reason: 'Error' }),
      ],
      { reason: () => undefined },
    );
    expect(s!.state?.terminated).toEqual({
      exitCode: 1,
      reason: 'Error',
      startedAt: '2026-11-22T08:00:00Z',
      finishedAt: '2026-11-22T08:00:05Z',
      containerID: 'docker://a-2',
    });
    expect(s!.lastState?.terminated?.exitCode).toBe(2);
    expect(s!.ready).toBe(false);
    expect(s!.started).toBe(false);
  });

  it('a container to be restarted shows why it waits, its terminated instance becoming lastState', () => {
    const reason = {
      reason: 'CrashLoopBackOff',
      message: 'back-off 10s restarting failed container=a pod=p_ns(u1)',
    };
    const [s] = convert(
      pod([c('a')]),
      [instance('a', { restartCount: 3, state: 'exited', exitCode: 1, reason: 'Error' })],
      {
        reason: () => reason,
      },
    );
    expect(s!.state).toEqual({ waiting: reason });
    expect(s!.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(s!.restartCount).toBe(3);
  });

  it('a container that will not be restarted (Never) keeps its terminated state whatever the reason cache says', () => {
    const [s] = convert(
      pod([c('a')], { restartPolicy: 'Never' }),
      [instance('a', { state: 'exited', exitCode: 1, reason: 'Error' })],
      {
        reason: () => ({ reason: 'CrashLoopBackOff', message: 'x' }),
      },
    );
    expect(s!.state?.terminated?.exitCode).toBe(1);
  });

  it('the kill message of an instance is its terminated message', () => {
    const [s] = convert(pod([c('a')]), [instance('a', { state: 'exited', exitCode: 137, reason: 'Error' })], {
      killMessage: (id) =>
        id === 'a-0' ? 'Container a failed liveness probe, will be restarted' : undefined,
      reason: () => ({ reason: 'CrashLoopBackOff', message: 'm' }),
    });
    expect(s!.lastState?.terminated).toMatchObject({
      exitCode: 137,
      reason: 'Error',
      message: 'Container a failed liveness probe, will be restarted',
    });
  });

  it('an old terminated status is kept when its instances are gone; an old running one becomes ContainerStatusUnknown if the engine lost it', () => {
    const old: ContainerStatusApi = {
      name: 'a',
      image: 'img:1',
      imageID: '',
      ready: false,
      restartCount: 4,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    };
    expect(convert(pod([c('a')], { restartPolicy: 'Never' }), [], { oldStatuses: [old] })[0]).toMatchObject({
      restartCount: 4,
      state: { terminated: { reason: 'Completed' } },
    });
    const wasRunning: ContainerStatusApi = { ...old, state: { running: {} } };
    const [s] = convert(pod([c('a')]), [instance('a', { restartCount: 4, state: 'unknown' })], {
      oldStatuses: [wasRunning],
    });
    expect(s).toMatchObject({
      restartCount: 5,
      state: {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
        },
      },
    });
  });

  it('sorts regular containers by name, keeps init containers in spec order, init ready once it exited 0', () => {
    const p = pod([c('zeta'), c('alpha')], { init: [c('second'), c('first')] });
    expect(convert(p, []).map((s) => s.name)).toEqual(['alpha', 'zeta']);
    const inits = convert(
      p,
      [instance('second', { state: 'exited', exitCode: 0, reason: 'Completed' }), instance('first')],
      {
        containers: p.spec!.initContainers!,
        list: 'init',
      },
    );
    expect(inits.map((s) => [s.name, s.ready, s.started])).toEqual([
      ['second', true, false],
      ['first', false, true],
    ]);
  });

  it('ephemeral containers: sorted by name, never ready and no started, whatever the probes say', () => {
    const debuggers = [c('debugger-b'), c('debugger-a'), c('debugger-c')];
    const statuses = convert(
      pod([c('app')]),
      [instance('debugger-b'), instance('debugger-a', { state: 'exited', exitCode: 0, reason: 'Completed' })],
      { containers: debuggers, list: 'ephemeral' },
    );
    expect(statuses.map((s) => [s.name, s.ready, s.started, Object.keys(s.state ?? {})[0]])).toEqual([
      ['debugger-a', false, undefined, 'terminated'],
      ['debugger-b', false, undefined, 'running'],
      ['debugger-c', false, undefined, 'waiting'],
    ]);
  });
});

describe('the dockershim’s reading of engine states', () => {
  const rc = (labels: Record<string, string> = {}): RuntimeContainer => ({
    id: 'x',
    name: 'k8s_a_p_ns_u1_3',
    type: 'container',
    pod: { name: 'p', namespace: 'ns', uid: 'u1' },
    containerName: 'a',
    image: 'img:1',
    state: 'exited',
    labels,
  });
  const base = { id: 'x', running: false, oomKilled: false } as const;

  it.each([
    ['Completed', { status: 'exited', exitCode: 0 }],
    ['Error', { status: 'exited', exitCode: 2 }],
    ['OOMKilled', { status: 'exited', exitCode: 137, oomKilled: true }],
  ] as const)('an exited container is %s', (reason, s) => {
    expect(containerStatusFrom(rc(), { ...base, ...s }, undefined)).toMatchObject({
      state: 'exited',
      reason,
      exitCode: s.exitCode,
    });
  });

  it('a container the engine could not start is ContainerCannotRun with the engine’s error', () => {
    expect(
      containerStatusFrom(
        rc(),
        { ...base, status: 'created', error: 'exec: "nope": executable file not found' },
        undefined,
      ),
    ).toMatchObject({
      state: 'exited',
      reason: 'ContainerCannotRun',
      message: 'exec: "nope": executable file not found',
    });
    expect(containerStatusFrom(rc(), { ...base, status: 'created' }, undefined).state).toBe('created');
  });

  it('restart count and spec hash come from the labels; without the label the name’s attempt', () => {
    expect(
      containerStatusFrom(
        rc({ 'io.kubernetes.container.restartCount': '7', 'io.kubernetes.container.hash': 'h' }),
        { ...base, status: 'running', running: true },
        undefined,
      ),
    ).toMatchObject({ restartCount: 7, hash: 'h', state: 'running' });
    expect(containerStatusFrom(rc(), undefined, undefined)).toMatchObject({
      restartCount: 3,
      state: 'unknown',
    });
  });
});
