import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import { WORK_QUEUE_BUCKETS } from './buckets.js';

/**
 * client-go's workqueue metrics (k8s.io/component-base/metrics/prometheus/workqueue), one
 * series per queue name, for the work queues of one component. Returns the per-name hooks
 * libs/client's WorkQueue calls (its WorkQueueOptions.metrics).
 */
export function workQueueMetrics(registry: Registry): (name: string) => {
  added(): void;
  taken(waitedMs: number): void;
  finished(workedMs: number): void;
  retried(): void;
} {
  const labelNames = ['name'] as const;
  const registers = [registry];
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames,
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames,
    registers,
  });
  const queued = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested.',
    buckets: WORK_QUEUE_BUCKETS,
    labelNames,
    registers,
  });
  const worked = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    buckets: WORK_QUEUE_BUCKETS,
    labelNames,
    registers,
  });
  return (name) => {
    const labels = { name };
    // Series appear at zero as soon as the queue exists, as client-go's do.
    depth.set(labels, 0);
    adds.inc(labels, 0);
    retries.inc(labels, 0);
    return {
      added: () => {
        adds.inc(labels);
        depth.inc(labels);
      },
      taken: (waitedMs) => {
        depth.dec(labels);
        queued.observe(labels, waitedMs / 1000);
      },
      finished: (workedMs) => worked.observe(labels, workedMs / 1000),
      retried: () => retries.inc(labels),
    };
  };
}
