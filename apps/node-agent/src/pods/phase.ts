import { type Container, type ContainerStatusApi, type PodSpec } from '../api-types.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** An init container with restartPolicy Always: a sidecar (kubetypes.IsRestartableInitContainer). */
export function isRestartableInitContainer(c: Container): boolean {
  return (c as { restartPolicy?: string }).restartPolicy === 'Always';
}

function statusOf(statuses: readonly ContainerStatusApi[], name: string): ContainerStatusApi | undefined {
  return statuses.find((s) => s.name === name);
}

/**
 * kubecontainer.HasAnyRegularContainerStarted: a regular container is running or has
 * terminated, so initialization happened at some point.
 */
export function hasAnyRegularContainerStarted(
  spec: PodSpec,
  statuses: readonly ContainerStatusApi[],
): boolean {
  const names = new Set(spec.containers.map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state?.running || s.state?.terminated));
}

/**
 * The pod's phase from its containers' statuses, as the kubelet derives it
 * (pkg/kubelet/kubelet_pods.go getPhase, 1.29+ with sidecar containers). `info` holds the
 * init and the regular containers' statuses; `podIsTerminal` says the kubelet has finished
 * the pod, so its containers will not be restarted whatever the policy.
 */
export function getPhase(
  spec: PodSpec,
  info: readonly ContainerStatusApi[],
  podIsTerminal: boolean,
): PodPhase {
  let pendingInitialization = 0;
  let failedInitialization = 0;

  for (const container of spec.initContainers ?? []) {
    if (isRestartableInitContainer(container)) continue;
    const s = statusOf(info, container.name);
    if (!s) {
      pendingInitialization++;
      continue;
    }
    if (s.state?.running) pendingInitialization++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
      } else pendingInitialization++;
    } else pendingInitialization++;
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;

  for (const container of spec.initContainers ?? []) {
    if (!isRestartableInitContainer(container)) continue;
    const s = statusOf(info, container.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) {
      if (!s.started) pendingInitialization++;
      running++;
    } else if (s.state?.terminated) {
      // Nothing: a stopped sidecar is restarted, and a terminal pod's phase is its regular containers'.
    } else if (s.state?.waiting) {
      if (!s.lastState?.terminated) {
        pendingInitialization++;
        waiting++;
      }
    } else {
      pendingInitialization++;
      unknown++;
    }
  }

  for (const container of spec.containers) {
    const s = statusOf(info, container.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }

  const restartPolicy = spec.restartPolicy ?? 'Always';
  if (failedInitialization > 0 && restartPolicy === 'Never') return 'Failed';

  if ((pendingInitialization > 0 && !hasAnyRegularContainerStarted(spec, info)) || waiting > 0)
    return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
