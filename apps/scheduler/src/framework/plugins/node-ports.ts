import {
  type CycleState,
  type FilterPlugin,
  type HostPort,
  type NodeInfo,
  type PluginStatus,
  type PodInfo,
  SKIP,
} from '../types.js';

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

const CONFLICT: PluginStatus = { code: 'Unschedulable', reasons: [ERR_REASON_PORTS] };

const ANY_IP = '0.0.0.0';

/**
 * Upstream's HostPortInfo.CheckConflict: the same protocol and port conflict when either side
 * binds every address (0.0.0.0) or both bind the same address.
 */
export function portConflicts(used: readonly HostPort[], wanted: HostPort): boolean {
  for (const u of used) {
    if (u.port !== wanted.port || u.protocol !== wanted.protocol) continue;
    if (wanted.hostIP === ANY_IP || u.hostIP === ANY_IP || u.hostIP === wanted.hostIP) return true;
  }
  return false;
}

/** A pod's host ports must be free on the node. */
export class NodePorts implements FilterPlugin {
  readonly name = 'NodePorts';

  preFilter(_state: CycleState, pod: PodInfo): typeof SKIP | undefined {
    return pod.hostPorts.length === 0 ? SKIP : undefined;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    if (node.usedPorts.length === 0) return undefined;
    for (const p of pod.hostPorts) if (portConflicts(node.usedPorts, p)) return CONFLICT;
    return undefined;
  }
}
