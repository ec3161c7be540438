import { readyCondition, type Pod } from '../replicaset/pod-types.js';
import { type Service } from './service-types.js';

interface ServiceState {
  lastPodTriggerTimes: Map<string, number>;
  lastServiceTriggerTime: number;
}

/**
 * endpointutil.TriggerTimeTracker (staging/src/k8s.io/endpointslice/util/trigger_time_tracker.go):
 * the time of the earliest change, since the last sync of a Service, that its endpoints now
 * reflect — a pod's Ready transition or the Service's creation. Written as the
 * `endpoints.kubernetes.io/last-change-trigger-time` annotation so that latency can be measured.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  /** ComputeEndpointLastChangeTriggerTime: undefined when no trigger time changed. */
  compute(key: string, service: Service, pods: readonly Pod[]): number | undefined {
    const state = this.states.get(key);
    const next: ServiceState = { lastPodTriggerTimes: new Map(), lastServiceTriggerTime: 0 };
    let min: number | undefined;
    for (const pod of pods) {
      const t = parseTime(readyCondition(pod)?.lastTransitionTime);
      if (t === undefined) continue;
      next.lastPodTriggerTimes.set(pod.metadata.name ?? '', t);
      if (t > (state?.lastPodTriggerTimes.get(pod.metadata.name ?? '') ?? 0)) min = Math.min(min ?? t, t);
    }
    const svcTime = parseTime(service.metadata.creationTimestamp) ?? 0;
    if (svcTime > (state?.lastServiceTriggerTime ?? 0)) min = Math.min(min ?? svcTime, svcTime);
    next.lastServiceTriggerTime = svcTime;
    this.states.set(key, next);
    return min;
  }

  deleteService(key: string): void {
    this.states.delete(key);
  }
}

function parseTime(s: string | undefined): number | undefined {
  const t = Date.parse(s ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/** Go's time.RFC3339Nano in UTC: fractional seconds only when there are any, trailing zeros dropped. */
export function formatRfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_, f: string) => (f ? `.${f}Z` : 'Z'));
}
