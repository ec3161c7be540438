/**
 * Pods on a node without an agent ("static" nodes of the tests): nothing but the test writes
 * their status, so a case can set exactly the state it is about (an IP, Ready or not) without
 * scheduling or starting anything.
 */
import { type ApiCluster } from './api-cluster.js';

/** What a created pod comes back as; suites narrow it with their own Pod type. */
export interface StaticPodObject {
  metadata: { name: string; resourceVersion?: string };
  spec?: unknown;
  status?: unknown;
}

/**
 * The status a kubelet writes for a running pod at `ip`: phase Running, podIP and podIPs, and
 * a Ready condition True or False (the condition the Endpoints and EndpointSlice controllers
 * read, upstream pkg/api/v1/pod/util.go IsPodReady), its transition at `now`.
 */
export function runningPodStatus(ip: string, ready: boolean, now = new Date()) {
  return {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now.toISOString() }],
  };
}

/** Replaces pod `name`'s status with a running one at `ip`, Ready or not; the pod as stored after. */
export async function setPodStatus<P = StaticPodObject>(
  cluster: Pick<ApiCluster, 'ok'>,
  namespace: string,
  name: string,
  ip: string,
  ready: boolean,
): Promise<P> {
  const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
  // The current object, so the PUT carries its resourceVersion and spec unchanged.
  const current = await cluster.ok<Record<string, unknown>>('GET', path);
  return cluster.ok<P>('PUT', `${path}/status`, { ...current, status: runningPodStatus(ip, ready) });
}

export interface StaticPodOptions {
  name: string;
  /** The agentless node the pod is bound to (spec.nodeName, so the scheduler leaves it alone). */
  node: string;
  ip: string;
  ready: boolean;
  labels?: Record<string, string>;
  /** The ports of its one container `c` (busybox:1): what a named targetPort resolves against. */
  ports?: Record<string, unknown>[];
  /** Merged over the generated spec (e.g. hostname/subdomain, or other containers). */
  spec?: Record<string, unknown>;
}

/** Creates a pod bound to `o.node` and writes its status as running at `o.ip`; the pod as stored after. */
export async function staticPod<P = StaticPodObject>(
  cluster: Pick<ApiCluster, 'ok'>,
  namespace: string,
  o: StaticPodOptions,
): Promise<P> {
  await cluster.ok('POST', `/api/v1/namespaces/${namespace}/pods`, {
    metadata: { name: o.name, labels: o.labels },
    spec: {
      nodeName: o.node,
      containers: [{ name: 'c', image: 'busybox:1', ...(o.ports ? { ports: o.ports } : {}) }],
      ...o.spec,
    },
  });
  return setPodStatus<P>(cluster, namespace, o.name, o.ip, o.ready);
}
