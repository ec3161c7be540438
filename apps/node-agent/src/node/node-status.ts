import { jsonEqual } from '@app/event-store';

import { type Node, type NodeCondition, type NodeStatus } from '../api-types.js';
import { goArch, type NodeFacts } from './node-facts.js';

/** What the agent knows of its own health when it computes the node's status. */
export interface NodeHealth {
  /** The container engine answered. */
  runtimeUp: boolean;
}

export interface NodeRegistration {
  nodeName: string;
  /** Extra labels (the kubelet's --node-labels). */
  labels?: Record<string, string>;
  /** The kubelet's --register-with-taints. */
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  /** Marks the node unschedulable from the start (--register-schedulable=false). */
  unschedulable?: boolean;
}

/** The kubelet's well-known labels (pkg/kubelet/kubelet_node_status.go initialNode). */
export function defaultNodeLabels(nodeName: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch(),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': goArch(),
  };
}

/** The Node the agent creates when it first registers. */
export function initialNode(r: NodeRegistration, status: NodeStatus): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: r.nodeName,
      labels: { ...defaultNodeLabels(r.nodeName), ...r.labels },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      ...(r.taints?.length ? { taints: r.taints } : {}),
      ...(r.unschedulable ? { unschedulable: true } : {}),
    },
    status,
  };
}

/**
 * The node conditions the kubelet sets (pkg/kubelet/nodestatus/setters.go), in its order.
 * A condition keeps its lastTransitionTime unless its status changed; every computation is a
 * heartbeat.
 */
export function nodeConditions(
  health: NodeHealth,
  previous: readonly NodeCondition[],
  now: Date,
): NodeCondition[] {
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const desired: Omit<NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'>[] = [
    {
      type: 'MemoryPressure',
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
      message: 'kubelet has sufficient memory available',
    },
    {
      type: 'DiskPressure',
      status: 'False',
      reason: 'KubeletHasNoDiskPressure',
      message: 'kubelet has no disk pressure',
    },
    {
      type: 'PIDPressure',
      status: 'False',
      reason: 'KubeletHasSufficientPID',
      message: 'kubelet has sufficient PID available',
    },
    health.runtimeUp
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' },
  ];
  return desired.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    const transition = before && before.status === c.status ? before.lastTransitionTime : at;
    return { ...c, lastHeartbeatTime: at, lastTransitionTime: transition ?? at };
  });
}

export function nodeStatus(facts: NodeFacts, conditions: NodeCondition[]): NodeStatus {
  return {
    capacity: facts.capacity,
    allocatable: facts.allocatable,
    conditions,
    addresses: facts.addresses,
    nodeInfo: facts.nodeInfo,
    images: facts.images,
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
  };
}

/**
 * Whether a newly computed status says something the stored one does not: heartbeat times
 * alone are no change (upstream's nodeStatusHasChanged), so a quiet node writes its status
 * only every report interval.
 */
export function nodeStatusChanged(stored: NodeStatus | undefined, next: NodeStatus): boolean {
  if (!stored) return true;
  // Only what the agent sets: other writers (the node lifecycle controller) own the rest.
  for (const key of Object.keys(next) as (keyof NodeStatus)[]) {
    if (key === 'conditions') continue;
    if (!jsonEqual(stored[key], next[key])) return true;
  }
  const heartbeatless = (cs: NodeStatus['conditions']) =>
    (cs ?? []).map(({ lastHeartbeatTime: _, ...c }) => c).sort((a, b) => a.type.localeCompare(b.type));
  return !jsonEqual(heartbeatless(stored.conditions), heartbeatless(next.conditions));
}
