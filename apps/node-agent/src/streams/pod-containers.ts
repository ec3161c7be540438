import { type DockerRuntime, parseName, type RuntimeContainer } from '../runtime/index.js';

export interface PodContainerQuery {
  namespace: string;
  pod: string;
  /** When given, only this incarnation of the pod (a pod recreated under the same name has another). */
  uid?: string;
  container: string;
}

export interface PodContainers {
  /** Whether this node runs the pod at all (its sandbox or any container is in the engine). */
  podFound: boolean;
  /** The named container's instances, newest attempt first: [current, previous, ...]. */
  attempts: RuntimeContainer[];
}

/**
 * What the engine holds of one container of a pod, read from the dockershim labels; the
 * attempt number in the name orders restarts (the pod workers keep the last exited instance
 * beside the current one, which is what `logs --previous` reads).
 */
export async function findPodContainers(
  runtime: DockerRuntime,
  q: PodContainerQuery,
): Promise<PodContainers> {
  const all = await runtime.listContainers(q.uid ? { podUid: q.uid } : {});
  const pods = all.filter((c) => c.pod.namespace === q.namespace && c.pod.name === q.pod);
  const attempts = pods
    .filter((c) => c.type === 'container' && c.containerName === q.container)
    .map((c) => ({ c, attempt: parseName(c.name)?.attempt ?? -1 }))
    .sort((a, b) => b.attempt - a.attempt)
    .map(({ c }) => c);
  return { podFound: pods.length > 0, attempts };
}
