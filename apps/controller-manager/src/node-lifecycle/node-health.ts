import { jsonEqual } from '@app/event-store';

import { metaTime, type Node, type NodeCondition, nodeCondition, type NodeLease } from './node-types.js';

/** nodeHealthData: what the controller last saw of a node, and when it last heard from it. */
export interface NodeHealth {
  status?: Node['status'];
  /** When the controller last saw a heartbeat: a Ready condition's new heartbeat or a renewed Lease. */
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  lease?: NodeLease;
}

export interface HealthTimings {
  /** --node-monitor-grace-period (50 s). */
  gracePeriodMs: number;
  /** --node-startup-grace-period (60 s): for a node that never posted a Ready condition. */
  startupGracePeriodMs: number;
}

export interface HealthAssessment {
  /** The Ready condition as the node reported it (a made-up Unknown one if it never did). */
  observedReady: NodeCondition;
  /** The Ready condition after this assessment (Unknown when the grace period ran out). */
  currentReady?: NodeCondition;
  /** The health to remember. */
  health: NodeHealth;
  /** Set when the node's conditions must be written as Unknown: the status to write and the health to remember once it is. */
  write?: { status: NonNullable<Node['status']>; health: NodeHealth };
}

/** The conditions the controller sets Unknown; NetworkUnavailable is managed by the control plane, so not. */
const UNKNOWN_ON_SILENCE = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

function renewedAfter(observed: NodeLease, saved: NodeLease | undefined): boolean {
  if (!saved) return true;
  const [a, b] = [Date.parse(saved.spec?.renewTime ?? ''), Date.parse(observed.spec?.renewTime ?? '')];
  // metav1.MicroTime.Before: a zero (unset) time is before any set one.
  return (Number.isNaN(a) ? -Infinity : a) < (Number.isNaN(b) ? -Infinity : b);
}

/**
 * tryUpdateNodeHealth (pkg/controller/nodelifecycle/node_lifecycle_controller.go), without
 * the write: a new heartbeat on the Ready condition or a renewed Lease moves the probe time to
 * now; once now is past probe + grace, Ready, MemoryPressure, DiskPressure and PIDPressure go
 * Unknown ("Kubelet stopped posting node status.") and, if Ready changed, the status is to be
 * written.
 */
export function assessNodeHealth(
  node: Node,
  saved: NodeHealth | undefined,
  lease: NodeLease | undefined,
  now: number,
  timings: HealthTimings,
): HealthAssessment {
  const created = Date.parse(node.metadata.creationTimestamp ?? '') || now;
  const reported = nodeCondition(node, 'Ready');
  let health = saved;
  let observedReady: NodeCondition;
  let gracePeriodMs: number;
  if (!reported) {
    // The kubelet never posted status: judge it from its creation, with the startup grace.
    observedReady = {
      type: 'Ready',
      status: 'Unknown',
      lastHeartbeatTime: node.metadata.creationTimestamp,
      lastTransitionTime: node.metadata.creationTimestamp,
    };
    gracePeriodMs = timings.startupGracePeriodMs;
    health = health
      ? { ...health, status: node.status }
      : { status: node.status, probeTimestamp: created, readyTransitionTimestamp: created };
  } else {
    observedReady = { ...reported };
    gracePeriodMs = timings.gracePeriodMs;
  }
  const savedReady = health?.status?.conditions?.find((c) => c.type === 'Ready');
  if (!health || (!savedReady && reported) || (savedReady && !reported)) {
    health = { status: node.status, probeTimestamp: now, readyTransitionTimestamp: now };
  } else if (savedReady && reported && savedReady.lastHeartbeatTime !== reported.lastHeartbeatTime) {
    const transition =
      savedReady.lastTransitionTime !== reported.lastTransitionTime ? now : health.readyTransitionTimestamp;
    health = { status: node.status, probeTimestamp: now, readyTransitionTimestamp: transition };
  }
  // Always update the probe time if the node's Lease was renewed.
  if (lease && renewedAfter(lease, saved?.lease)) health = { ...health, lease, probeTimestamp: now };
  const result: HealthAssessment = { observedReady, currentReady: reported, health };
  if (now <= health.probeTimestamp + gracePeriodMs) return result;

  const at = metaTime(now);
  const conditions = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  for (const type of UNKNOWN_ON_SILENCE) {
    const c = conditions.find((x) => x.type === type);
    if (!c)
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp,
        lastTransitionTime: at,
      });
    else if (c.status !== 'Unknown')
      Object.assign(c, {
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastTransitionTime: at,
      });
  }
  const currentReady = conditions.find((c) => c.type === 'Ready');
  result.currentReady = currentReady;
  if (jsonEqual(currentReady, observedReady)) return result;
  const status = { ...node.status, conditions };
  result.write = {
    status,
    health: { status, probeTimestamp: health.probeTimestamp, readyTransitionTimestamp: now, lease },
  };
  return result;
}
