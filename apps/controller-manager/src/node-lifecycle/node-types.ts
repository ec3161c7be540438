import { type StoredObject } from '@app/event-store';

import { type Taint, type Toleration } from '../../../scheduler/src/framework/types.js';

export type { Taint, Toleration };

/** A taint as it is stored: NoExecute taints the node lifecycle controller adds carry when. */
export type NodeTaint = Taint & { timeAdded?: string };

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

/** The parts of a core/v1 Node the node lifecycle and taint eviction controllers read. */
export type Node = StoredObject & {
  metadata: StoredObject['metadata'] & { name: string };
  spec?: { unschedulable?: boolean; taints?: NodeTaint[] };
  status?: { conditions?: NodeCondition[] } & Record<string, unknown>;
};

/** A node's heartbeat Lease in kube-node-lease. */
export type NodeLease = StoredObject & { spec?: { renewTime?: string; holderIdentity?: string } };

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

// The well-known taint keys (k8s.io/api/core/v1/well_known_taints.go).
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

/** UnreachableTaintTemplate / NotReadyTaintTemplate (node_lifecycle_controller.go). */
export const UNREACHABLE_TAINT: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
export const NOT_READY_TAINT: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute' };

export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** metav1.Time: RFC 3339 at second precision, as the API serialises it. */
export function metaTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
