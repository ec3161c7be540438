import {
  type CycleState,
  MAX_NODE_SCORE,
  type NodeInfo,
  type PodInfo,
  SKIP,
  type ScorePlugin,
} from '../types.js';

/**
 * Upstream's balancedResourceScorer over cpu and memory: 100 × (1 − std) of the shares of each
 * resource the node would have requested with the pod (each capped at 1). With both resources
 * the std is |f1 − f2| / 2; a resource the node has none of is left out (undefined), and one
 * share or none has no spread.
 */
export function balancedScore(cpuFraction: number | undefined, memoryFraction: number | undefined): number {
  if (cpuFraction === undefined || memoryFraction === undefined) return MAX_NODE_SCORE;
  const std = Math.abs((Math.min(1, cpuFraction) - Math.min(1, memoryFraction)) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/**
 * Favours nodes whose cpu and memory would be used in equal shares. It counts actual requests
 * (no 100m/200Mi defaults) and skips pods that request neither, as upstream does, so best-effort
 * pods are not all piled onto one node.
 */
export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';
  readonly weight: number;

  constructor(weight = 1) {
    this.weight = weight;
  }

  preScore(_state: CycleState, pod: PodInfo): typeof SKIP | undefined {
    return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? SKIP : undefined;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const alloc = node.allocatable;
    const used = node.requested;
    const want = pod.requests;
    return balancedScore(
      alloc.milliCPU === 0 ? undefined : (used.milliCPU + want.milliCPU) / alloc.milliCPU,
      alloc.memory === 0 ? undefined : (used.memory + want.memory) / alloc.memory,
    );
  }
}
