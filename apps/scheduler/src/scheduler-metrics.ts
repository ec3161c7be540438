import { componentRegistry, Counter, Gauge, Histogram } from '@app/metrics';

import { type SchedulingQueue } from './queue/scheduling-queue.js';

/** Upstream's buckets for the scheduling SLI: 10 ms doubling, 20 buckets (up to ~1.5 h). */
const SLI_BUCKETS = Array.from({ length: 20 }, (_, i) => 0.01 * 2 ** i);

/** kube-scheduler's metrics, by upstream's names, served at /metrics. */
export class SchedulerMetrics {
  readonly registry = componentRegistry();
  private readonly attempts = new Counter({
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result.',
    labelNames: ['profile', 'result'],
    registers: [this.registry],
  });
  private readonly sli = new Histogram({
    name: 'scheduler_pod_scheduling_sli_duration_seconds',
    help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue until it is bound.',
    buckets: SLI_BUCKETS,
    registers: [this.registry],
  });
  private readonly skipped = new Counter({
    name: 'wake_scheduler_status_writes_skipped_total',
    help: 'PodScheduled=False writes skipped because too many were in flight.',
    registers: [this.registry],
  });

  constructor(
    private readonly profile: string,
    queue?: SchedulingQueue,
  ) {
    new Gauge({
      name: 'scheduler_pending_pods',
      help: 'Number of pending pods, by the queue type.',
      labelNames: ['queue'],
      registers: [this.registry],
      // Read from the queue at scrape time: nothing to keep in step on every push and pop.
      collect() {
        if (queue) for (const [name, n] of Object.entries(queue.pending)) this.set({ queue: name }, n);
      },
    });
  }

  scheduled(sinceQueuedMs: number): void {
    this.result('scheduled');
    this.sli.observe(sinceQueuedMs / 1000);
  }

  unschedulable(): void {
    this.result('unschedulable');
  }

  error(): void {
    this.result('error');
  }

  statusWriteSkipped(): void {
    this.skipped.inc();
  }

  private result(result: 'scheduled' | 'unschedulable' | 'error'): void {
    this.attempts.inc({ profile: this.profile, result });
  }
}
