import { type ProbeTarget } from './prober.js';

/** A started container the agent wants probed: where its probes run, and since when it runs. */
export interface ProbedContainer extends ProbeTarget {
  startedAt: Date;
}

export interface ProbeListener {
  /** Readiness or startup changed: the pod's status must be written again. */
  onChange(podUid: string): void;
  /**
   * The liveness or startup probe failed `failureThreshold` times: the agent kills the
   * container (with its grace period) and restarts it according to restartPolicy. `message` is
   * the kill's, as kuberuntime words it ("Container web failed liveness probe, will be
   * restarted"); the probe stays quiet until the container is tracked again with a new id.
   */
  onUnhealthy(
    podUid: string,
    containerName: string,
    containerId: string,
    message: string,
    detail: UnhealthyDetail,
  ): void;
  /**
   * A probe run the kubelet records as a Warning Event on the container: reason `Unhealthy`
   * ("Readiness probe failed: HTTP probe failed with statuscode: 500") for each failed or
   * errored run, below the threshold too, or `ProbeWarning` (a redirect to another host).
   */
  onProbeEvent?(podUid: string, containerName: string, containerId: string, event: ProbeEventInfo): void;
}

export interface UnhealthyDetail {
  probe: 'Liveness' | 'Startup';
  /** The last failed run's output, e.g. "HTTP probe failed with statuscode: 500". */
  output: string;
  /** The probe's own terminationGracePeriodSeconds: when set, it replaces the pod's for this kill. */
  terminationGracePeriodSeconds?: number;
}

export interface ProbeEventInfo {
  reason: 'Unhealthy' | 'ProbeWarning';
  message: string;
}

/**
 * Runs the liveness, readiness and startup probes of started containers (the kubelet's
 * prober manager): one worker per probe, upstream defaults, startup gating the others.
 */
export interface ProbeManager {
  setListener(listener: ProbeListener): void;
  /**
   * Starts probing a (re)started container; a new containerId replaces the old workers. The
   * same containerId again only refreshes the pod (a deletionTimestamp quiets liveness and
   * startup, as upstream) and the pod IP.
   */
  track(target: ProbedContainer): void;
  /** Stops probing one container, or all of a pod's. */
  untrack(podUid: string, containerName?: string): void;
  /** `ready` for the container status; true when it has no readiness probe and has started. */
  isReady(podUid: string, containerName: string): boolean;
  /** `started`; true when it has no startup probe. */
  isStarted(podUid: string, containerName: string): boolean;
  stop(): void;
}

export const PROBE_MANAGER = Symbol('PROBE_MANAGER');

/** No probes run: every tracked container is started and ready (a pod without probes). */
export class NoProbeManager implements ProbeManager {
  private readonly tracked = new Set<string>();
  setListener(): void {}
  track(t: ProbedContainer): void {
    this.tracked.add(`${t.pod.metadata?.uid}/${t.container.name}`);
  }
  untrack(podUid: string, containerName?: string): void {
    for (const k of this.tracked)
      if (containerName ? k === `${podUid}/${containerName}` : k.startsWith(`${podUid}/`))
        this.tracked.delete(k);
  }
  isReady(podUid: string, containerName: string): boolean {
    return this.tracked.has(`${podUid}/${containerName}`);
  }
  isStarted(podUid: string, containerName: string): boolean {
    return this.tracked.has(`${podUid}/${containerName}`);
  }
  stop(): void {}
}
