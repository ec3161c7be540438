import { type WaitingReason } from './container-statuses.js';

/**
 * What the agent remembers between syncs that the engine does not hold: why a container is
 * not running (the kubelet's reasonCache), what each killed instance was killed for, and the
 * liveness failures waiting for the next sync. Lost on restart, as upstream's is.
 */
export class PodMemory {
  private readonly reasons = new Map<string, Map<string, WaitingReason>>();
  private readonly killMessages = new Map<string, string>();
  private readonly unhealthy = new Map<string, string>();
  private readonly probeGrace = new Map<string, number>();

  reason(podUid: string, container: string): WaitingReason | undefined {
    return this.reasons.get(podUid)?.get(container);
  }

  setReason(podUid: string, container: string, reason: WaitingReason): void {
    let m = this.reasons.get(podUid);
    if (!m) this.reasons.set(podUid, (m = new Map()));
    m.set(container, reason);
  }

  clearReason(podUid: string, container: string): void {
    this.reasons.get(podUid)?.delete(container);
  }

  killMessage(containerId: string): string | undefined {
    return this.killMessages.get(containerId);
  }

  killedWith(containerId: string, message: string): void {
    this.killMessages.set(containerId, message);
    this.unhealthy.delete(containerId);
    this.probeGrace.delete(containerId);
  }

  /** `graceSeconds`: the probe's own terminationGracePeriodSeconds, which replaces the pod's for this kill. */
  markUnhealthy(containerId: string, message: string, graceSeconds?: number): void {
    this.unhealthy.set(containerId, message);
    if (graceSeconds !== undefined) this.probeGrace.set(containerId, graceSeconds);
    else this.probeGrace.delete(containerId);
  }

  probeGraceSeconds(containerId: string): number | undefined {
    return this.probeGrace.get(containerId);
  }

  unhealthyMessage(containerId: string): string | undefined {
    return this.unhealthy.get(containerId);
  }

  /** The instance was removed from the engine. */
  forgetContainer(containerId: string): void {
    this.killMessages.delete(containerId);
    this.unhealthy.delete(containerId);
    this.probeGrace.delete(containerId);
  }

  forgetPod(podUid: string): void {
    this.reasons.delete(podUid);
  }
}
