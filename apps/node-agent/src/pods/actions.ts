import { type Container, type EphemeralContainer, type Pod } from '../api-types.js';
import { isRestartableInitContainer } from './phase.js';
import { type RuntimeContainerStatus, type RuntimePodStatus, latestStatus } from './runtime-pod.js';
import { hashContainer } from './spec-hash.js';

export interface ContainerToKill {
  id: string;
  name: string;
  /** Why, for the terminated state's message ("Container c failed liveness probe, will be restarted"). */
  message: string;
}

/** kuberuntime_manager.go podActions: what one sync must do to a pod. */
export interface PodActions {
  /** Stop every container and the sandbox. */
  killPod: boolean;
  /** Make a new sandbox (after killing the pod): none exists, or the newest is not ready. */
  createSandbox: boolean;
  /** The sandbox to run containers in when none is created. */
  sandboxId?: string;
  /** The attempt number of the sandbox to create. */
  attempt: number;
  nextInitContainerToStart?: Container;
  containersToStart: Container[];
  /** Ephemeral containers never started in the pod (they are never restarted). */
  ephemeralContainersToStart: EphemeralContainer[];
  containersToKill: ContainerToKill[];
}

function restartPolicy(pod: Pod): string {
  return pod.spec?.restartPolicy ?? 'Always';
}

/** kubelet shouldRestartOnFailure: anything but Never. */
export function shouldRestartOnFailure(pod: Pod): boolean {
  return restartPolicy(pod) !== 'Never';
}

/** kubecontainer.ShouldContainerBeRestarted (pkg/kubelet/container/helpers.go). */
export function shouldContainerBeRestarted(
  container: Container,
  pod: Pod,
  status: RuntimePodStatus,
): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const s = latestStatus(status, container.name);
  if (!s) return true;
  if (s.state === 'running') return false;
  if (s.state === 'unknown' || s.state === 'created') return true;
  if (restartPolicy(pod) === 'Never') return false;
  if (restartPolicy(pod) === 'OnFailure' && s.exitCode === 0) return false;
  return true;
}

/** kuberuntime_container.go isInitContainerFailed. */
export function isInitContainerFailed(s: RuntimeContainerStatus): boolean {
  if (s.reason === 'OOMKilled') return true;
  if (s.state === 'exited' && s.exitCode !== 0) return true;
  return s.state === 'unknown';
}

/**
 * kuberuntime_container.go findNextInitContainerToRun (without sidecars): the last failed
 * init container, else the one after the last that exited, else the first; `done` once the
 * last one has exited or any regular container runs.
 */
export function findNextInitContainerToRun(
  pod: Pod,
  status: RuntimePodStatus,
): { last?: RuntimeContainerStatus; next?: Container; done: boolean } {
  const inits = (pod.spec?.initContainers ?? []).filter((c) => !isRestartableInitContainer(c));
  if (inits.length === 0) return { done: true };
  // A regular container running means initialization happened, even if its records are gone.
  for (const c of pod.spec?.containers ?? [])
    if (latestStatus(status, c.name)?.state === 'running') return { done: true };
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = latestStatus(status, inits[i]!.name);
    if (s && isInitContainerFailed(s)) return { last: s, next: inits[i], done: false };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = latestStatus(status, inits[i]!.name);
    if (!s) continue;
    if (s.state === 'running') return { done: false };
    if (s.state === 'exited') {
      if (i === inits.length - 1) return { done: true };
      return { next: inits[i + 1], done: false };
    }
  }
  return { next: inits[0], done: false };
}

/**
 * runtimeutil.PodSandboxChanged: a new sandbox is needed when there is none, when the newest
 * is not ready, when more than one is ready, when it is not in the network namespace the pod
 * asks for (the host's or its own), or when, in its own, it has no address; its attempt is the
 * newest's + 1.
 */
export function podSandboxChanged(
  pod: Pod,
  status: RuntimePodStatus,
): {
  changed: boolean;
  attempt: number;
  sandboxId?: string;
} {
  const newest = status.sandboxes[0];
  if (!newest) return { changed: true, attempt: 0 };
  const ready = status.sandboxes.filter((s) => s.ready).length;
  const hostNetwork = pod.spec?.hostNetwork === true;
  const networkChanged = (newest.hostNetwork === true) !== hostNetwork;
  if (ready > 1 || !newest.ready || networkChanged || (!hostNetwork && !newest.ip))
    return { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  return { changed: false, attempt: newest.attempt, sandboxId: newest.id };
}

function containerSucceeded(c: Container, status: RuntimePodStatus): boolean {
  const s = latestStatus(status, c.name);
  return s !== undefined && s.state === 'exited' && s.exitCode === 0;
}

/**
 * What a sync must do to bring the engine to the pod's spec
 * (pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions, without resizes).
 * `unhealthy` says whether a container id failed its liveness probe, and with what message.
 */
export function computePodActions(
  pod: Pod,
  status: RuntimePodStatus,
  unhealthy: (containerId: string) => string | undefined = () => undefined,
): PodActions {
  const sandbox = podSandboxChanged(pod, status);
  const actions: PodActions = {
    killPod: sandbox.changed,
    createSandbox: sandbox.changed,
    ...(sandbox.sandboxId ? { sandboxId: sandbox.sandboxId } : {}),
    attempt: sandbox.attempt,
    containersToStart: [],
    containersToKill: [],
    ephemeralContainersToStart: [],
  };
  const containers = pod.spec?.containers ?? [];
  const inits = (pod.spec?.initContainers ?? []).filter((c) => !isRestartableInitContainer(c));

  if (sandbox.changed) {
    // A finished pod whose sandbox is gone gets no new one.
    if (!shouldRestartOnFailure(pod) && sandbox.attempt !== 0 && status.containers.length !== 0) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart = containers.filter(
      (c) => !(restartPolicy(pod) === 'OnFailure' && containerSucceeded(c, status)),
    );
    if (toStart.length === 0 && findNextInitContainerToRun(pod, status).done) {
      actions.createSandbox = false;
      return actions;
    }
    // A new sandbox starts the pod over: initialization first.
    if (inits.length > 0) {
      actions.nextInitContainerToStart = inits[0];
      return actions;
    }
    actions.containersToStart = toStart;
    return actions;
  }

  // Before initialization is checked: a debugger may be added to a pod whose init container
  // hangs. Any instance at all, running or exited, means it ran: it is never started again.
  for (const c of pod.spec?.ephemeralContainers ?? [])
    if (!latestStatus(status, c.name)) actions.ephemeralContainersToStart.push(c);

  const init = findNextInitContainerToRun(pod, status);
  if (!init.done) {
    if (init.next) {
      const failed = init.last !== undefined && isInitContainerFailed(init.last);
      if (failed && !shouldRestartOnFailure(pod)) actions.killPod = true;
      else {
        if (init.last?.state === 'unknown')
          actions.containersToKill.push({
            id: init.last.id,
            name: init.last.name,
            message: `Init container is in "unknown" state, try killing it before restart`,
          });
        actions.nextInitContainerToStart = init.next;
      }
    }
    return actions;
  }

  let keepCount = 0;
  for (const container of containers) {
    const s = latestStatus(status, container.name);
    if (!s || s.state !== 'running') {
      if (shouldContainerBeRestarted(container, pod, status)) {
        actions.containersToStart.push(container);
        if (s?.state === 'unknown')
          actions.containersToKill.push({
            id: s.id,
            name: s.name,
            message: `Container is in "unknown" state, try killing it before restart`,
          });
      }
      continue;
    }
    let restart = shouldRestartOnFailure(pod);
    let message: string;
    const livenessFailure = unhealthy(s.id);
    if (s.hash !== undefined && s.hash !== hashContainer(container)) {
      message = `Container ${container.name} definition changed`;
      // A changed spec restarts the container whatever the restart policy.
      restart = true;
    } else if (livenessFailure !== undefined) {
      message = livenessFailure;
    } else {
      keepCount++;
      continue;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      actions.containersToStart.push(container);
    }
    actions.containersToKill.push({ id: s.id, name: s.name, message });
  }

  if (keepCount === 0 && actions.containersToStart.length === 0) actions.killPod = true;
  return actions;
}
