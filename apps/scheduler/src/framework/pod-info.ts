import { parseMilli, parseValue } from '@app/api';

import { preferredTerms, requiredTerms } from './affinity-term.js';
import { type Container, podSpec, type PodSpec } from './api-types.js';
import { addResourceList, addResources, amount, emptyResources, maxResources } from './resources.js';
import {
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  type HostPort,
  type KubeObject,
  type PodInfo,
  type Resources,
} from './types.js';

export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

/** A sidecar: an init container that keeps running beside the app containers. */
function isRestartable(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

type ContainerRequests = (c: Container) => Resources;

const actualRequests: ContainerRequests = (c) => {
  const r = emptyResources();
  addResourceList(r, c.resources?.requests);
  return r;
};

/**
 * Scoring's view (upstream's NonMissingContainerRequests): a container that sets no CPU or no
 * memory request counts 100m / 200Mi for it. An explicit zero stays zero, as upstream.
 */
const nonMissingRequests: ContainerRequests = (c) => {
  const r = actualRequests(c);
  const requests = c.resources?.requests ?? {};
  if (!Object.hasOwn(requests, 'cpu')) r.milliCPU += DEFAULT_MILLI_CPU_REQUEST;
  if (!Object.hasOwn(requests, 'memory')) r.memory += DEFAULT_MEMORY_REQUEST;
  return r;
};

/**
 * Upstream's PodRequests: the app containers and sidecars run together; each ordinary init
 * container runs alone beside the sidecars started before it; the pod needs the larger of the
 * two phases, plus its overhead. Pod-level requests (spec.resources) replace cpu and memory.
 */
function podRequests(spec: PodSpec, perContainer: ContainerRequests): Resources {
  const reqs = emptyResources();
  for (const c of spec.containers ?? []) addResources(reqs, perContainer(c));

  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const r = perContainer(c);
    if (isRestartable(c)) {
      addResources(reqs, r);
      addResources(sidecars, r);
      maxResources(initPeak, sidecars);
    } else {
      addResources(r, sidecars);
      maxResources(initPeak, r);
    }
  }
  maxResources(reqs, initPeak);

  const podLevel = spec.resources?.requests;
  if (podLevel !== undefined) {
    if (podLevel.cpu !== undefined) reqs.milliCPU = amount(parseMilli, podLevel.cpu);
    if (podLevel.memory !== undefined) reqs.memory = amount(parseValue, podLevel.memory);
  }
  addResourceList(reqs, spec.overhead);
  return reqs;
}

/** Host ports of the app containers and sidecars (both hold them while the pod runs). */
function hostPorts(spec: PodSpec): HostPort[] {
  const out: HostPort[] = [];
  const collect = (c: Container) => {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      out.push({ protocol: p.protocol || 'TCP', hostIP: p.hostIP || '0.0.0.0', port: p.hostPort });
    }
  };
  for (const c of spec.containers ?? []) collect(c);
  for (const c of spec.initContainers ?? []) if (isRestartable(c)) collect(c);
  return out;
}

/** Derives the scheduler's view of a pod; call again when the pod changes. */
export function podInfo(pod: KubeObject): PodInfo {
  const spec = podSpec(pod);
  const requests = podRequests(spec, actualRequests);
  requests.pods = 1;
  const nonZero = podRequests(spec, nonMissingRequests);
  const affinity = spec.affinity;
  return {
    pod,
    key: podKey(pod),
    requests,
    nonZeroRequests: { milliCPU: nonZero.milliCPU, memory: nonZero.memory },
    hostPorts: hostPorts(spec),
    priority: spec.priority ?? 0,
    requiredAffinityTerms: requiredTerms(pod, affinity?.podAffinity),
    requiredAntiAffinityTerms: requiredTerms(pod, affinity?.podAntiAffinity),
    preferredAffinityTerms: preferredTerms(pod, affinity?.podAffinity),
    preferredAntiAffinityTerms: preferredTerms(pod, affinity?.podAntiAffinity),
  };
}

export function hasAffinity(p: PodInfo): boolean {
  return (
    p.requiredAffinityTerms.length > 0 ||
    p.requiredAntiAffinityTerms.length > 0 ||
    p.preferredAffinityTerms.length > 0 ||
    p.preferredAntiAffinityTerms.length > 0
  );
}

export function hasRequiredAntiAffinity(p: PodInfo): boolean {
  return p.requiredAntiAffinityTerms.length > 0;
}
