/**
 * What the engine says about one pod, in the kubelet's terms (kubecontainer.PodStatus): its
 * sandboxes and its containers, newest first. The pod workers decide from this alone, so a
 * restarted agent sees exactly what the one before it left.
 */
export type ContainerRunState = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainerStatus {
  id: string;
  /** The container's name in the pod spec. */
  name: string;
  state: ContainerRunState;
  /** From the `io.kubernetes.container.restartCount` label (else the name's attempt). */
  restartCount: number;
  /** The spec hash the container was made from (`io.kubernetes.container.hash`). */
  hash?: string;
  image: string;
  imageID?: string;
  sandboxId?: string;
  exitCode?: number;
  /** Completed, Error, OOMKilled, ContainerCannotRun (the dockershim's reasons). */
  reason?: string;
  message?: string;
  startedAt?: Date;
  finishedAt?: Date;
}

export interface RuntimeSandboxStatus {
  id: string;
  attempt: number;
  ready: boolean;
  /** Its address on the engine's network; none in the host's network namespace. */
  ip?: string;
  /** In the host's network namespace (a hostNetwork pod's): why a ready one may have no `ip`. */
  hostNetwork?: boolean;
}

export interface RuntimePodStatus {
  uid: string;
  /** Newest (highest attempt) first. */
  sandboxes: RuntimeSandboxStatus[];
  /** Newest (highest restart count) first within each name. */
  containers: RuntimeContainerStatus[];
}

/** kubecontainer.PodStatus.FindContainerStatusByName: the newest instance of a container. */
export function latestStatus(status: RuntimePodStatus, name: string): RuntimeContainerStatus | undefined {
  return status.containers.find((c) => c.name === name);
}

/** All instances of a container, newest first. */
export function instancesOf(status: RuntimePodStatus, name: string): RuntimeContainerStatus[] {
  return status.containers.filter((c) => c.name === name);
}
