import {
  type ContainerStatus,
  type DockerRuntime,
  type RuntimeContainer,
  parseName,
} from '../runtime/index.js';
import { apiImageId } from './images.js';
import {
  type RuntimeContainerStatus,
  type RuntimePodStatus,
  type RuntimeSandboxStatus,
} from './runtime-pod.js';

/**
 * The labels the pod workers add to each container (upstream keeps them as annotations,
 * pkg/kubelet/kuberuntime/labels.go): enough to rebuild restart counts and detect a changed
 * spec from the engine alone after the agent restarts.
 */
export const POD_LABELS = {
  restartCount: 'io.kubernetes.container.restartCount',
  hash: 'io.kubernetes.container.hash',
} as const;

function attemptOf(c: RuntimeContainer): number {
  return parseName(c.name)?.attempt ?? 0;
}

/** The dockershim's reading of an engine state (pkg/kubelet/dockershim/docker_container.go ContainerStatus). */
export function containerStatusFrom(
  c: RuntimeContainer,
  s: ContainerStatus | undefined,
  imageID: string | undefined,
): RuntimeContainerStatus {
  const label = c.labels[POD_LABELS.restartCount];
  const base: RuntimeContainerStatus = {
    id: c.id,
    name: c.containerName ?? '',
    state: 'unknown',
    restartCount: label !== undefined && /^\d+$/.test(label) ? Number(label) : attemptOf(c),
    image: c.image,
    ...(imageID ? { imageID } : {}),
    ...(c.labels[POD_LABELS.hash] ? { hash: c.labels[POD_LABELS.hash] } : {}),
    ...(c.sandboxId ? { sandboxId: c.sandboxId } : {}),
  };
  if (!s) return base;
  const times = {
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
  };
  switch (s.status) {
    case 'running':
    case 'paused':
    case 'restarting':
      return { ...base, ...times, state: 'running' };
    case 'created':
      // The engine could not start it (a missing command, a bad mount): it exited without running.
      if (s.error)
        return {
          ...base,
          ...times,
          state: 'exited',
          exitCode: s.exitCode ?? 128,
          reason: 'ContainerCannotRun',
          message: s.error,
        };
      return { ...base, ...times, state: 'created' };
    default: {
      const exitCode = s.exitCode ?? 0;
      const reason = s.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      return { ...base, ...times, state: 'exited', exitCode, reason };
    }
  }
}

/**
 * Reads one pod's sandboxes and containers from the engine. `images` caches image ids across
 * calls (an image's id never changes under a reference the agent does not re-pull).
 */
export async function readEnginePod(
  runtime: DockerRuntime,
  uid: string,
  images: Map<string, string | undefined> = new Map(),
): Promise<RuntimePodStatus> {
  const found = await runtime.listContainers({ podUid: uid });
  const inspected = await Promise.all(
    found.map(async (c) => {
      const s = await runtime.inspect(c.id).catch(() => undefined);
      return { c, s };
    }),
  );
  const sandboxes: RuntimeSandboxStatus[] = [];
  const containers: RuntimeContainerStatus[] = [];
  for (const { c, s } of inspected) {
    if (c.type === 'podsandbox') {
      const ready = s?.running === true;
      sandboxes.push({
        id: c.id,
        attempt: attemptOf(c),
        ready,
        ...(ready && s?.ipAddress ? { ip: s.ipAddress } : {}),
        ...(s?.hostNetwork ? { hostNetwork: true } : {}),
      });
      continue;
    }
    if (!images.has(c.image)) {
      const image = await runtime.inspectImage(c.image).catch(() => undefined);
      images.set(c.image, image ? apiImageId(image) : undefined);
    }
    containers.push(containerStatusFrom(c, s, images.get(c.image)));
  }
  sandboxes.sort((a, b) => b.attempt - a.attempt);
  containers.sort((a, b) => b.restartCount - a.restartCount);
  return { uid, sandboxes, containers };
}
