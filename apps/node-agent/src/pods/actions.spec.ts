import { describe, expect, it } from '@jest/globals';

import { type Container, type Pod } from '../api-types.js';
import { computePodActions, podSandboxChanged } from './actions.js';
import { type RuntimeContainerStatus, type RuntimePodStatus } from './runtime-pod.js';
import { hashContainer } from './spec-hash.js';

// Mirrors pkg/kubelet/kuberuntime/kuberuntime_manager_test.go TestComputePodActions and
// TestComputePodActionsWithInitContainers: three containers foo1..foo3 (init1..init3), a
// ready sandbox at attempt 0, everything running unless a case changes it.
const containers: Container[] = ['foo1', 'foo2', 'foo3'].map((name) => ({ name, image: 'busybox' }));
const initContainers: Container[] = ['init1', 'init2', 'init3'].map((name) => ({ name, image: 'busybox' }));

function makePod(restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', withInit = false): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'foo', namespace: 'new', uid: '12345678' },
    spec: { containers, ...(withInit ? { initContainers } : {}), restartPolicy },
  };
}

function cs(c: Container, o: Partial<RuntimeContainerStatus> = {}): RuntimeContainerStatus {
  return {
    id: `id-${c.name}`,
    name: c.name,
    state: 'running',
    restartCount: 0,
    hash: hashContainer(c),
    image: 'busybox',
    ...o,
  };
}

function status(
  list: RuntimeContainerStatus[],
  sandbox: { ready?: boolean; ip?: boolean } = {},
): RuntimePodStatus {
  const ready = sandbox.ready ?? true;
  return {
    uid: '12345678',
    sandboxes: [{ id: 'sandbox', attempt: 0, ready, ...(sandbox.ip === false ? {} : { ip: '10.0.0.2' }) }],
    containers: list,
  };
}

const allRunning = () => containers.map((c) => cs(c));
const names = (cs: Container[]) => cs.map((c) => c.name);

describe('computePodActions (kuberuntime_manager.go), upstream TestComputePodActions cases', () => {
  it('starts the sandbox and all containers when there is no sandbox', () => {
    const a = computePodActions(makePod(), { uid: '12345678', sandboxes: [], containers: [] });
    expect(a).toMatchObject({ killPod: true, createSandbox: true, attempt: 0, containersToKill: [] });
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2', 'foo3']);
  });

  it('does nothing when everything is good', () => {
    const a = computePodActions(makePod(), status(allRunning()));
    expect(a).toMatchObject({ killPod: false, createSandbox: false, sandboxId: 'sandbox', attempt: 0 });
    expect(a.containersToStart).toEqual([]);
    expect(a.containersToKill).toEqual([]);
  });

  it('restarts exited containers if RestartPolicy == Always', () => {
    const list = allRunning();
    list[0] = cs(containers[0]!, { state: 'exited', exitCode: 0 });
    list[1] = cs(containers[1]!, { state: 'exited', exitCode: 1 });
    const a = computePodActions(makePod('Always'), status(list));
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2']);
    expect(a.killPod).toBe(false);
  });

  it('restarts only failed containers if RestartPolicy == OnFailure', () => {
    const list = allRunning();
    list[0] = cs(containers[0]!, { state: 'exited', exitCode: 0 });
    list[1] = cs(containers[1]!, { state: 'exited', exitCode: 1 });
    const a = computePodActions(makePod('OnFailure'), status(list));
    expect(names(a.containersToStart)).toEqual(['foo2']);
  });

  it('restarts nothing if RestartPolicy == Never', () => {
    const list = allRunning();
    list[0] = cs(containers[0]!, { state: 'exited', exitCode: 111 });
    list[1] = cs(containers[1]!, { state: 'exited', exitCode: 22 });
    const a = computePodActions(makePod('Never'), status(list));
    expect(a).toMatchObject({ killPod: false, containersToStart: [], containersToKill: [] });
  });

  it('kills the pod and recreates everything if the sandbox is dead (Always)', () => {
    const a = computePodActions(makePod('Always'), status(allRunning(), { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true, sandboxId: 'sandbox', attempt: 1 });
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2', 'foo3']);
  });

  it('recreates all but the succeeded containers if the sandbox is dead (OnFailure)', () => {
    const list = allRunning();
    list[1] = cs(containers[1]!, { state: 'exited', exitCode: 0 });
    const a = computePodActions(makePod('OnFailure'), status(list, { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true, attempt: 1 });
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo3']);
  });

  it('recreates everything if the sandbox has no IP', () => {
    const a = computePodActions(makePod(), status(allRunning(), { ip: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true, attempt: 1 });
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2', 'foo3']);
  });

  it('kills and recreates a container whose spec changed, whatever the restart policy', () => {
    const list = allRunning();
    list[1] = cs(containers[1]!, { hash: 'stale' });
    const a = computePodActions(makePod('Never'), status(list));
    expect(names(a.containersToStart)).toEqual(['foo2']);
    expect(a.containersToKill).toEqual([
      { id: 'id-foo2', name: 'foo2', message: 'Container foo2 definition changed, will be restarted' },
    ]);
  });

  it('kills and recreates a container whose liveness probe failed', () => {
    const a = computePodActions(makePod(), status(allRunning()), (id) =>
      id === 'id-foo3' ? 'Container foo3 failed liveness probe' : undefined,
    );
    expect(names(a.containersToStart)).toEqual(['foo3']);
    expect(a.containersToKill).toEqual([
      { id: 'id-foo3', name: 'foo3', message: 'Container foo3 failed liveness probe, will be restarted' },
    ]);
  });

  it('kills without restarting a container whose liveness probe failed under Never; the pod goes when nothing is kept', () => {
    const a = computePodActions(
      makePod('Never'),
      status([cs(containers[0]!)]),
      () => 'Container foo1 failed liveness probe',
    );
    expect(a.containersToKill).toEqual([
      { id: 'id-foo1', name: 'foo1', message: 'Container foo1 failed liveness probe' },
    ]);
    // foo2 and foo3 never ran: they are started (Never restarts nothing, but starts what never ran).
    expect(names(a.containersToStart)).toEqual(['foo2', 'foo3']);
  });

  it('does not recreate the sandbox of a finished pod (Never, containers exited)', () => {
    const list = containers.map((c) => cs(c, { state: 'exited', exitCode: 0 }));
    const a = computePodActions(makePod('Never'), status(list, { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: false });
  });

  it('creates a sandbox under Never when no container was ever created', () => {
    const a = computePodActions(makePod('Never'), status([], { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true, attempt: 1 });
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2', 'foo3']);
  });

  it('kills the pod when every container exited and none is to be restarted (OnFailure, all succeeded)', () => {
    const list = containers.map((c) => cs(c, { state: 'exited', exitCode: 0 }));
    const a = computePodActions(makePod('OnFailure'), status(list));
    expect(a).toMatchObject({ killPod: true, createSandbox: false, containersToStart: [] });
  });

  it('kills and recreates a container in unknown state', () => {
    const list = allRunning();
    list[0] = cs(containers[0]!, { state: 'unknown' });
    const a = computePodActions(makePod(), status(list));
    expect(names(a.containersToStart)).toEqual(['foo1']);
    expect(a.containersToKill.map((k) => k.id)).toEqual(['id-foo1']);
  });

  it('starts nothing in a pod being deleted', () => {
    const pod = makePod();
    pod.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    const list = allRunning();
    list[0] = cs(containers[0]!, { state: 'exited', exitCode: 1 });
    const a = computePodActions(pod, status(list));
    expect(a.containersToStart).toEqual([]);
  });
});

describe('computePodActions with init containers, upstream TestComputePodActionsWithInitContainers cases', () => {
  const inits = (...states: Partial<RuntimeContainerStatus>[]) =>
    states.map((s, i) => cs(initContainers[i]!, { state: 'exited', exitCode: 0, ...s }));

  it('initialization completed: starts all containers', () => {
    const a = computePodActions(makePod('Always', true), status(inits({}, {}, {})));
    expect(names(a.containersToStart)).toEqual(['foo1', 'foo2', 'foo3']);
    expect(a.nextInitContainerToStart).toBeUndefined();
  });

  it('no init container started yet: starts the first one', () => {
    const a = computePodActions(makePod('Always', true), status([]));
    expect(a.nextInitContainerToStart?.name).toBe('init1');
    expect(a.containersToStart).toEqual([]);
  });

  it('initialization in progress: does nothing', () => {
    const a = computePodActions(makePod('Always', true), status(inits({}, { state: 'running' })));
    expect(a).toMatchObject({
      killPod: false,
      createSandbox: false,
      containersToStart: [],
      containersToKill: [],
    });
    expect(a.nextInitContainerToStart).toBeUndefined();
  });

  it('starts the init container after the last one that exited', () => {
    const a = computePodActions(makePod('Always', true), status(inits({})));
    expect(a.nextInitContainerToStart?.name).toBe('init2');
  });

  it('kills the pod and restarts the first init container if the sandbox is dead', () => {
    const a = computePodActions(makePod('Always', true), status(inits({}, {}, {}), { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true, attempt: 1 });
    expect(a.nextInitContainerToStart?.name).toBe('init1');
    expect(a.containersToStart).toEqual([]);
  });

  it.each(['Always', 'OnFailure'] as const)(
    'initialization failed: restarts the failed init container (%s)',
    (policy) => {
      const a = computePodActions(makePod(policy, true), status(inits({}, {}, { exitCode: 137 })));
      expect(a.killPod).toBe(false);
      expect(a.nextInitContainerToStart?.name).toBe('init3');
    },
  );

  it('initialization failed: kills the pod if RestartPolicy == Never', () => {
    const a = computePodActions(makePod('Never', true), status(inits({}, {}, { exitCode: 137 })));
    expect(a.killPod).toBe(true);
    expect(a.nextInitContainerToStart).toBeUndefined();
  });

  it('an init container in unknown state is killed and recreated', () => {
    const a = computePodActions(makePod('Always', true), status(inits({}, {}, { state: 'unknown' })));
    expect(a.nextInitContainerToStart?.name).toBe('init3');
    expect(a.containersToKill.map((k) => k.id)).toEqual(['id-init3']);
  });

  it('sandbox not ready, init container failed, Never: kills the pod only', () => {
    const a = computePodActions(
      makePod('Never', true),
      status(inits({}, {}, { exitCode: 137 }), { ready: false }),
    );
    expect(a).toMatchObject({ killPod: true, createSandbox: false });
  });

  it('sandbox not ready, Never, no container seen: creates a sandbox and starts the first init container', () => {
    const a = computePodActions(makePod('Never', true), status([], { ready: false }));
    expect(a).toMatchObject({ killPod: true, createSandbox: true });
    expect(a.nextInitContainerToStart?.name).toBe('init1');
  });

  it('earlier init statuses missing but the last one running: restarts none before it', () => {
    const a = computePodActions(
      makePod('Always', true),
      status([cs(initContainers[2]!, { state: 'running' })]),
    );
    expect(a.nextInitContainerToStart).toBeUndefined();
    expect(a.containersToStart).toEqual([]);
  });

  it('a running regular container means initialization is done, even with init records gone', () => {
    const a = computePodActions(makePod('Always', true), status([cs(containers[0]!)]));
    expect(a.nextInitContainerToStart).toBeUndefined();
    expect(names(a.containersToStart)).toEqual(['foo2', 'foo3']);
  });
});

// Mirrors TestComputePodActionsWithInitAndEphemeralContainers: ephemeral containers debug1 and
// debug2 added to the same pod.
describe('computePodActions with ephemeral containers', () => {
  const debug = (name: string) => ({ name, image: 'busybox', targetContainerName: 'foo1' });
  function withDebuggers(pod: Pod, ...names: string[]): Pod {
    return { ...pod, spec: { ...pod.spec!, ephemeralContainers: names.map(debug) } };
  }
  const ephemeralNames = (a: { ephemeralContainersToStart: { name: string }[] }) =>
    a.ephemeralContainersToStart.map((c) => c.name);

  it('steady state with a running debugger: nothing to do', () => {
    const a = computePodActions(
      withDebuggers(makePod(), 'debug1'),
      status([...allRunning(), cs(debug('debug1'))]),
    );
    expect(a).toMatchObject({
      killPod: false,
      createSandbox: false,
      containersToKill: [],
      containersToStart: [],
    });
    expect(ephemeralNames(a)).toEqual([]);
  });

  it('starts a debugger that never ran, and only that one of two', () => {
    expect(
      ephemeralNames(computePodActions(withDebuggers(makePod(), 'debug1'), status(allRunning()))),
    ).toEqual(['debug1']);
    const a = computePodActions(
      withDebuggers(makePod(), 'debug1', 'debug2'),
      status([...allRunning(), cs(debug('debug1'))]),
    );
    expect(ephemeralNames(a)).toEqual(['debug2']);
  });

  it('never restarts a debugger that exited, whatever the restart policy and exit code', () => {
    for (const exitCode of [0, 1])
      expect(
        ephemeralNames(
          computePodActions(
            withDebuggers(makePod('Always'), 'debug1'),
            status([...allRunning(), cs(debug('debug1'), { state: 'exited', exitCode })]),
          ),
        ),
      ).toEqual([]);
  });

  it('leaves a debugger in an unknown state alone (neither killed nor started)', () => {
    const a = computePodActions(
      withDebuggers(makePod(), 'debug1'),
      status([...allRunning(), cs(debug('debug1'), { state: 'unknown' })]),
    );
    expect(ephemeralNames(a)).toEqual([]);
    expect(a.containersToKill).toEqual([]);
  });

  it('starts a debugger while initialization is still running', () => {
    const a = computePodActions(
      withDebuggers(makePod('Always', true), 'debug1'),
      status([cs(initContainers[0]!, { state: 'running' })]),
    );
    expect(ephemeralNames(a)).toEqual(['debug1']);
    expect(a.nextInitContainerToStart).toBeUndefined();
  });

  it('a new sandbox starts no debugger, not even one that never ran', () => {
    const a = computePodActions(
      withDebuggers(makePod(), 'debug1'),
      status([cs(containers[0]!, { state: 'exited', exitCode: 0 })], { ready: false }),
    );
    expect(a).toMatchObject({ killPod: true, createSandbox: true });
    expect(ephemeralNames(a)).toEqual([]);
  });

  it('a running debugger does not keep a finished pod alive', () => {
    const a = computePodActions(
      withDebuggers(makePod('Never'), 'debug1'),
      status([...containers.map((c) => cs(c, { state: 'exited', exitCode: 0 })), cs(debug('debug1'))]),
    );
    expect(a.killPod).toBe(true);
    expect(ephemeralNames(a)).toEqual([]);
  });
});

describe('podSandboxChanged and host networking', () => {
  const hostNetworkPod = (): Pod => ({ ...makePod(), spec: { ...makePod().spec!, hostNetwork: true } });
  const hostSandbox = (list: RuntimeContainerStatus[]): RuntimePodStatus => ({
    uid: '12345678',
    sandboxes: [{ id: 'sandbox', attempt: 0, ready: true, hostNetwork: true }],
    containers: list,
  });

  it('keeps a ready host-network sandbox, which has no address of its own', () => {
    expect(podSandboxChanged(hostNetworkPod(), hostSandbox(allRunning()))).toEqual({
      changed: false,
      attempt: 0,
      sandboxId: 'sandbox',
    });
    expect(computePodActions(hostNetworkPod(), hostSandbox(allRunning()))).toMatchObject({
      killPod: false,
      createSandbox: false,
      containersToStart: [],
    });
  });

  it('makes a new sandbox when it is not in the network namespace the pod asks for', () => {
    expect(podSandboxChanged(makePod(), hostSandbox(allRunning()))).toMatchObject({
      changed: true,
      attempt: 1,
    });
    expect(podSandboxChanged(hostNetworkPod(), status(allRunning()))).toMatchObject({
      changed: true,
      attempt: 1,
    });
  });

  it('a sandbox in its own network namespace still needs an address', () => {
    expect(podSandboxChanged(makePod(), status(allRunning(), { ip: false }))).toMatchObject({
      changed: true,
    });
  });
});
