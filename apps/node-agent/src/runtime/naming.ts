/**
 * Container names and labels as upstream's dockershim wrote them (pkg/kubelet/dockershim/
 * naming.go, kuberuntime/labels.go), so `docker ps` on a Wake node reads like a kubelet's and
 * the agent can rebuild what it runs from the engine after a crash. The name makes creation
 * idempotent (the engine refuses a duplicate); the labels carry the truth.
 */
export const KUBERNETES_PREFIX = 'k8s';
export const SANDBOX_CONTAINER_NAME = 'POD';
const SEPARATOR = '_';

export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  containerType: 'io.kubernetes.docker.type',
  sandboxId: 'io.kubernetes.sandbox.id',
  /** Wake's own: which cluster's agent owns the container, so agents never touch others'. */
  cluster: 'wake.dev/cluster',
} as const;

export type ContainerType = 'podsandbox' | 'container';

export interface PodRef {
  name: string;
  namespace: string;
  uid: string;
}

/** `k8s_POD_<pod>_<namespace>_<uid>_<attempt>` */
export function sandboxName(pod: PodRef, attempt: number): string {
  return joinName([SANDBOX_CONTAINER_NAME, pod.name, pod.namespace, pod.uid, attempt]);
}

/** `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` */
export function containerName(pod: PodRef, container: string, attempt: number): string {
  return joinName([container, pod.name, pod.namespace, pod.uid, attempt]);
}

export interface ParsedName {
  containerName: string;
  podName: string;
  namespace: string;
  uid: string;
  attempt: number;
}

/**
 * Reads a name back; undefined for containers Wake (or a kubelet) did not name. Docker
 * reports names with a leading slash, and dockershim allowed a random suffix after the attempt.
 */
export function parseName(name: string): ParsedName | undefined {
  const parts = name.replace(/^\//, '').split(SEPARATOR);
  if (parts[0] !== KUBERNETES_PREFIX || (parts.length !== 6 && parts.length !== 7)) return undefined;
  const [, container, podName, namespace, uid, attempt] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^\d+$/.test(attempt)) return undefined;
  return { containerName: container, podName, namespace, uid, attempt: Number(attempt) };
}

export function sandboxLabels(cluster: string, pod: PodRef): Record<string, string> {
  return {
    [LABELS.podName]: pod.name,
    [LABELS.podNamespace]: pod.namespace,
    [LABELS.podUid]: pod.uid,
    [LABELS.containerType]: 'podsandbox',
    [LABELS.cluster]: cluster,
  };
}

export function containerLabels(
  cluster: string,
  pod: PodRef,
  container: string,
  sandboxId: string,
): Record<string, string> {
  return {
    [LABELS.podName]: pod.name,
    [LABELS.podNamespace]: pod.namespace,
    [LABELS.podUid]: pod.uid,
    [LABELS.containerName]: container,
    [LABELS.containerType]: 'container',
    [LABELS.sandboxId]: sandboxId,
    [LABELS.cluster]: cluster,
  };
}

function joinName(parts: (string | number)[]): string {
  for (const part of parts.slice(0, -1)) {
    // Kubernetes names never hold "_", so the name stays parseable; refuse input that would not.
    if (String(part) === '' || String(part).includes(SEPARATOR)) {
      throw new Error(`"${part}" cannot be part of a container name: empty or contains "${SEPARATOR}"`);
    }
  }
  if (!Number.isInteger(parts.at(-1)) || Number(parts.at(-1)) < 0) {
    throw new Error(`attempt must be a non-negative integer, got ${parts.at(-1)}`);
  }
  return [KUBERNETES_PREFIX, ...parts].join(SEPARATOR);
}
