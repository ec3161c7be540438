import { Counter, Gauge, Histogram } from '@app/metrics';

import { type SchedulingQueue } from './queue/scheduling-queue.js';

/** Upstream's buckets for the scheduling SLI: 10 ms doubling, 20 buckets (up to ~1.5 h). */
const SLI_BUCKETS = Array.from({ length: 20 }, (_, i) => 0.01 * 2 ** i);

/** kube-scheduler's metrics, by upstream's names, served at /metrics. */
export class SchedulerMetrics {
  private readonly attempts = new Counter(
    'scheduler_schedule_attempts_total',
    'Number of attempts to schedule pods, by the result.',
  );
  private readonly sli = new Histogram(
    'scheduler_pod_scheduling_sli_duration_seconds',
    'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue until it is bound.',
    SLI_BUCKETS,
  );
  private readonly pending = new Gauge(
    'scheduler_pending_pods',
    'Number of pending pods, by the queue type.',
  );
  private readonly skipped = new Counter(
    'wake_scheduler_status_writes_skipped_total',
    'PodScheduled=False writes skipped because too many were in flight.',
  );

  constructor(
    private readonly profile: string,
    private readonly queue?: SchedulingQueue,
  ) {}

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

  render(): string {
    if (this.queue)
      for (const [queue, n] of Object.entries(this.queue.pending)) this.pending.set(n, { queue });
    return this.attempts.render() + this.sli.render() + this.pending.render() + this.skipped.render();
  }

  private result(result: 'scheduled' | 'unschedulable' | 'error'): void {
    this.attempts.inc({ profile: this.profile, result });
  }
}
