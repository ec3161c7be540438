import { type Container, type ContainerState, type ContainerStatusApi, type Pod } from '../api-types.js';
import { shouldContainerBeRestarted } from './actions.js';
import { isRestartableInitContainer } from './phase.js';
import { type RuntimeContainerStatus, type RuntimePodStatus } from './runtime-pod.js';

/** Why a container is not running although it should: the kubelet's reasonCache entry. */
export interface WaitingReason {
  reason: string;
  message: string;
}

export interface ContainerStatusInputs {
  pod: Pod;
  runtime: RuntimePodStatus;
  /** The container statuses the pod's status holds now (of the `list` given). */
  oldStatuses: readonly ContainerStatusApi[];
  containers: readonly Container[];
  list: 'init' | 'regular' | 'ephemeral';
  /** The last start failure of a container (CrashLoopBackOff, ErrImagePull, ...). */
  reason(containerName: string): WaitingReason | undefined;
  /** The message the agent killed a container instance with, if it did. */
  killMessage(containerId: string): string | undefined;
  /** The probe results of the running instance. */
  ready(containerName: string): boolean;
  started(containerName: string): boolean;
}

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function apiTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function apiContainerId(id: string): string {
  return `docker://${id}`;
}

/** convertContainerStatus: one engine instance as the API's container status. */
function convert(
  cs: RuntimeContainerStatus,
  old: ContainerStatusApi | undefined,
  killMessage: (id: string) => string | undefined,
): ContainerStatusApi {
  const containerID = apiContainerId(cs.id);
  const status: ContainerStatusApi = {
    name: cs.name,
    state: {},
    ready: false,
    restartCount: cs.restartCount,
    image: cs.image,
    imageID: cs.imageID ?? '',
    containerID,
  };
  if (cs.state === 'running') {
    status.state = { running: { startedAt: apiTime(cs.startedAt ?? new Date()) } };
  } else if (cs.state === 'created') {
    status.state = { waiting: {} };
  } else if (cs.state === 'exited') {
    const message = killMessage(cs.id) ?? cs.message;
    status.state = {
      terminated: {
        exitCode: cs.exitCode ?? 0,
        ...(cs.reason ? { reason: cs.reason } : {}),
        ...(message ? { message } : {}),
        ...(cs.startedAt ? { startedAt: apiTime(cs.startedAt) } : {}),
        ...(cs.finishedAt ? { finishedAt: apiTime(cs.finishedAt) } : {}),
        containerID,
      },
    };
  } else if (old?.state?.running) {
    // It ran and the engine cannot find it now: it did run, so it must not look never-started.
    status.state = {
      terminated: {
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was terminated',
        exitCode: 137,
      },
    };
    status.restartCount = old.restartCount + 1;
  } else {
    status.state = { waiting: {} };
  }
  return status;
}

/**
 * The API container statuses of a pod's init or regular containers from what the engine
 * has (pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses): the newest instance is the
 * state, the one before it the lastState; a container that will be (re)started is `waiting`
 * with the reason of its last failed start; one with no instance yet is waiting
 * ContainerCreating (PodInitializing when the pod has init containers). Regular and ephemeral
 * containers come sorted by name, init containers in spec order, as upstream returns them.
 */
export function convertToApiContainerStatuses(inputs: ContainerStatusInputs): ContainerStatusApi[] {
  const { pod, runtime, containers } = inputs;
  const hasInitContainers = (pod.spec?.initContainers ?? []).length > 0;
  const defaultWaiting: ContainerState = {
    waiting: { reason: hasInitContainers ? 'PodInitializing' : 'ContainerCreating' },
  };
  const oldByName = new Map(inputs.oldStatuses.map((s) => [s.name, s]));
  const statuses = new Map<string, ContainerStatusApi>();
  for (const c of containers) {
    const old = oldByName.get(c.name);
    let status: ContainerStatusApi = {
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: defaultWaiting,
    };
    if (old) {
      if (old.state?.terminated) status = { ...old };
      else {
        status.restartCount = old.restartCount;
        if (old.lastState) status.lastState = old.lastState;
      }
    }
    statuses.set(c.name, status);
  }

  const seen = new Map<string, number>();
  for (const cs of runtime.containers) {
    const current = statuses.get(cs.name);
    if (!current) continue;
    const count = seen.get(cs.name) ?? 0;
    if (count >= 2) continue;
    const converted = convert(cs, oldByName.get(cs.name), inputs.killMessage);
    if (count === 0) statuses.set(cs.name, converted);
    else current.lastState = converted.state;
    seen.set(cs.name, count + 1);
  }

  for (const c of containers) {
    if (!shouldContainerBeRestarted(c, pod, runtime)) continue;
    const why = inputs.reason(c.name);
    if (!why) continue;
    const status = statuses.get(c.name)!;
    if (status.state?.terminated) status.lastState = status.state;
    status.state = { waiting: { reason: why.reason, message: why.message } };
  }

  for (const c of containers) {
    const status = statuses.get(c.name)!;
    const running = status.state?.running !== undefined;
    // No probe runs in an ephemeral container and the probe manager never marks one: never ready.
    if (inputs.list === 'ephemeral') status.ready = false;
    else if (inputs.list === 'init' && !isRestartableInitContainer(c)) {
      status.ready = status.state?.terminated?.exitCode === 0;
      status.started = running;
    } else {
      status.started = running && inputs.started(c.name);
      status.ready = running && status.started && inputs.ready(c.name);
    }
  }

  const ordered = containers.map((c) => statuses.get(c.name)!);
  return inputs.list === 'init'
    ? ordered
    : ordered.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
