import {
  type CycleState,
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeInfo,
  type PluginStatus,
  type PodInfo,
  type ScorePlugin,
} from '../types.js';

/**
 * Upstream's leastRequestedScore: the share of the node left free after placing the pod,
 * 0..100, and 0 when the node is (or would be) over-committed.
 */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/**
 * Filter: the node must have room for the pod's requests (cpu, memory, ephemeral storage,
 * extended resources) and one more pod. A request larger than the node's whole allocatable
 * makes the status unresolvable (evicting pods would not help). Score (LeastAllocated, cpu and
 * memory weighted 1:1): emptier nodes score higher, counting unset requests as 100m / 200Mi.
 */
export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';
  readonly weight: number;

  constructor(weight = 1) {
    this.weight = weight;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    const want = pod.requests;
    const alloc = node.allocatable;
    const used = node.requested;
    // Plain code, no helper closure: this runs for every candidate node of every pod.
    let reasons: string[] | undefined;
    let unresolvable = false;
    if (node.pods.length + 1 > alloc.pods) {
      (reasons ??= []).push('Too many pods');
      unresolvable ||= alloc.pods < 1;
    }
    if (want.milliCPU > 0 && want.milliCPU > alloc.milliCPU - used.milliCPU) {
      (reasons ??= []).push('Insufficient cpu');
      unresolvable ||= want.milliCPU > alloc.milliCPU;
    }
    if (want.memory > 0 && want.memory > alloc.memory - used.memory) {
      (reasons ??= []).push('Insufficient memory');
      unresolvable ||= want.memory > alloc.memory;
    }
    if (want.ephemeralStorage > 0 && want.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
      (reasons ??= []).push('Insufficient ephemeral-storage');
      unresolvable ||= want.ephemeralStorage > alloc.ephemeralStorage;
    }
    if (want.scalar.size > 0) {
      for (const [name, amount] of want.scalar) {
        if (amount === 0) continue;
        const allocatable = alloc.scalar.get(name) ?? 0;
        if (amount > allocatable - (used.scalar.get(name) ?? 0)) {
          (reasons ??= []).push(`Insufficient ${name}`);
          unresolvable ||= amount > allocatable;
        }
      }
    }
    if (reasons === undefined) return undefined;
    return { code: unresolvable ? 'UnschedulableAndUnresolvable' : 'Unschedulable', reasons };
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const alloc = node.allocatable;
    let total = 0;
    let weights = 0;
    if (alloc.milliCPU !== 0) {
      total += leastRequestedScore(
        node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU,
        alloc.milliCPU,
      );
      weights++;
    }
    if (alloc.memory !== 0) {
      total += leastRequestedScore(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.trunc(total / weights);
  }
}
