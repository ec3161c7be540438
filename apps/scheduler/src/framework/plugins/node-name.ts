import { podSpec } from '../api-types.js';
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type PluginStatus,
  type PodInfo,
} from '../types.js';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

const MISMATCH: PluginStatus = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_NODE_NAME] };

/** A pod that names its node (spec.nodeName) fits that node only. */
export class NodeName implements FilterPlugin {
  readonly name = 'NodeName';

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    const wanted = podSpec(pod.pod).nodeName;
    return wanted === undefined || wanted === '' || wanted === node.name ? undefined : MISMATCH;
  }
}
