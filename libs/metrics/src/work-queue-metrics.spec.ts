import { describe, expect, it } from '@jest/globals';

import { WorkQueue } from '@app/client';

import { componentRegistry } from './component-registry.js';
import { workQueueMetrics } from './work-queue-metrics.js';

describe('workQueueMetrics', () => {
  it('counts adds, depth, retries and durations per queue name as client-go does', async () => {
    const registry = componentRegistry();
    const queue = new WorkQueue<string>(undefined, {
      name: 'replicaset',
      metrics: workQueueMetrics(registry),
    });
    queue.add('ns/a');
    queue.add('ns/a'); // de-duplicated: still one add
    queue.add('ns/b');
    let text = await registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="replicaset"} 2');
    expect(text).toContain('workqueue_depth{name="replicaset"} 2');

    const item = await queue.get();
    queue.addRateLimited(item!);
    queue.done(item!);
    text = await registry.metrics();
    expect(text).toContain('workqueue_depth{name="replicaset"} 1');
    expect(text).toContain('workqueue_retries_total{name="replicaset"} 1');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="replicaset"} 1');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="replicaset"} 1');
    expect(text).toContain('process_cpu_seconds_total');
    await queue.shutdownAndDrain();
  });

  it('keeps a queue without a name or provider free of metrics', async () => {
    const registry = componentRegistry();
    const queue = new WorkQueue<string>(undefined, { metrics: workQueueMetrics(registry) });
    queue.add('x');
    expect(await registry.metrics()).not.toContain('workqueue_adds_total{');
    await queue.shutdownAndDrain();
  });
});
