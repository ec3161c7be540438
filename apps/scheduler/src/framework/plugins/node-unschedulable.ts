import { podSpec } from '../api-types.js';
import { toleratedBy } from '../taints.js';
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type PluginStatus,
  type PodInfo,
  type Taint,
} from '../types.js';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

/** The taint a cordoned node is treated as having; tolerating it lets a pod onto the node anyway. */
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

const UNSCHEDULABLE: PluginStatus = {
  code: 'UnschedulableAndUnresolvable',
  reasons: [ERR_REASON_UNSCHEDULABLE],
};

/** Keeps pods off cordoned nodes (spec.unschedulable) unless they tolerate that. */
export class NodeUnschedulable implements FilterPlugin {
  readonly name = 'NodeUnschedulable';

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    if (!node.unschedulable) return undefined;
    if (toleratedBy(podSpec(pod.pod).tolerations ?? [], UNSCHEDULABLE_TAINT)) return undefined;
    return UNSCHEDULABLE;
  }
}
