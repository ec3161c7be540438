import { parseMilli, parseValue } from '@app/api';

import { type Container, type Pod } from '../api-types.js';
import { type ContainerResources } from '../runtime/index.js';
import { type ResourceFieldSelector } from './kube-types.js';

type Quantity = string | number;
type ResourceList = Readonly<Record<string, Quantity>>;

/** What the node offers pods; stands in for unset limits in the downward API. */
export interface NodeAllocatable {
  cpu?: Quantity;
  memory?: Quantity;
  'ephemeral-storage'?: Quantity;
}

// pkg/kubelet/cm/helpers_linux.go
const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
const MILLI_CPU_TO_CPU = 1000;
/** The CFS period (100 ms, in µs) and the smallest quota the kernel accepts (1 ms). */
const QUOTA_PERIOD = 100000;
const MIN_QUOTA_PERIOD = 1000;

/** MilliCPUToShares: a CPU request as a relative weight; nothing requested is the minimum. */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.trunc((milliCpu * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** MilliCPUToQuota: a CPU limit as CFS quota per `period` µs; 0 (no limit) stays 0. */
export function milliCpuToQuota(milliCpu: number, period = QUOTA_PERIOD): number {
  if (milliCpu === 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD, Math.trunc((milliCpu * period) / MILLI_CPU_TO_CPU));
}

/**
 * The container's requests and limits with upstream's API defaulting (core/v1 SetDefaults_Pod):
 * a resource limited but not requested is requested at its limit. Wake's API server does not
 * store that default, so the kubelet side applies it, as kuberuntime also does for CPU.
 */
function effectiveResources(c: Container): { requests: ResourceList; limits: ResourceList } {
  const limits = (c.resources?.limits ?? {}) as ResourceList;
  const requests = { ...limits, ...((c.resources?.requests ?? {}) as ResourceList) };
  return { requests, limits };
}

/**
 * The engine's resources for a container (kuberuntime_container_linux.go
 * calculateLinuxResources with the dockershim): CPU request → shares (2 when nothing is
 * requested, as upstream), CPU limit → quota over a 100 ms period, memory limit → bytes.
 */
export function containerResources(c: Container): ContainerResources {
  const { requests, limits } = effectiveResources(c);
  const resources: ContainerResources = {
    cpuShares: milliCpuToShares(requests.cpu !== undefined ? parseMilli(requests.cpu) : 0),
  };
  if (limits.cpu !== undefined) {
    const quota = milliCpuToQuota(parseMilli(limits.cpu));
    if (quota > 0) {
      resources.cpuQuota = quota;
      resources.cpuPeriod = QUOTA_PERIOD;
    }
  }
  if (limits.memory !== undefined) {
    const bytes = parseValue(limits.memory);
    if (bytes > 0) resources.memoryBytes = bytes;
  }
  return resources;
}

/**
 * The value of a `resourceFieldRef` (pkg/api/v1/resource ExtractResourceValueByContainerName
 * after the kubelet's defaultPodLimitsForDownwardAPI): unset limits read as the node's
 * allocatable, CPU rounds up to the divisor in millicores, memory and storage in bytes.
 */
export function resourceFieldValue(
  selector: ResourceFieldSelector,
  pod: Pod,
  container: Container | undefined,
  allocatable: NodeAllocatable,
): string {
  const target = selector.containerName
    ? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
        (c) => c.name === selector.containerName,
      )
    : container;
  if (!target) throw new Error(`container ${selector.containerName ?? ''} not found`);
  const { requests, limits } = effectiveResources(target);
  const merged: Record<string, Quantity> = { ...limits };
  for (const [k, v] of Object.entries(allocatable))
    if (merged[k] === undefined && v !== undefined) merged[k] = v;

  const divisor = selector.divisor;
  const [kind, name] = splitResource(selector.resource);
  const list: ResourceList = kind === 'limits' ? merged : requests;
  const value = list[name];
  switch (name) {
    case 'cpu': {
      const per = divisor === undefined || parseMilli(divisor) === 0 ? 1000 : parseMilli(divisor);
      return String(Math.ceil((value === undefined ? 0 : parseMilli(value)) / per));
    }
    case 'memory':
    case 'ephemeral-storage': {
      const per = divisor === undefined || parseValue(divisor) === 0 ? 1 : parseValue(divisor);
      return String(Math.ceil((value === undefined ? 0 : parseValue(value)) / per));
    }
  }
  throw new Error(`unsupported container resource : ${selector.resource}`);
}

function splitResource(resource: string): ['limits' | 'requests', string] {
  if (resource.startsWith('limits.')) return ['limits', resource.slice('limits.'.length)];
  if (resource.startsWith('requests.')) return ['requests', resource.slice('requests.'.length)];
  throw new Error(`unsupported container resource : ${resource}`);
}
