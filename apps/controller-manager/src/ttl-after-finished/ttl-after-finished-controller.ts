import {
  type ApiClient,
  ApiError,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import { finishedCondition, type Job, JOBS } from '../job/job-types.js';

export interface TtlAfterFinishedOptions {
  api: ApiClient;
  jobs: Informer<Job>;
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  now?: () => number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * When a finished Job expires (pkg/controller/ttlafterfinished/ttlafterfinished_controller.go
 * timeLeft / jobFinishTime): ttlSecondsAfterFinished after its completionTime, or after its
 * terminal condition's transition. Undefined while it has no TTL, is not finished, or is
 * already being deleted.
 */
export function expiresAt(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const done = finishedCondition(job);
  if (ttl === undefined || !done || job.metadata.deletionTimestamp) return undefined;
  const finished = Date.parse(
    (done.type === 'Complete' ? job.status?.completionTime : undefined) ?? done.lastTransitionTime ?? '',
  );
  return Number.isNaN(finished) ? undefined : finished + ttl * 1000;
}

/**
 * The TTL-after-finished controller (`ttl-after-finished-controller`): deletes a finished
 * Job once its TTL has passed, with foreground propagation so its pods go first, after
 * re-reading it (its TTL may have changed) and guarded by its uid.
 */
export class TtlAfterFinishedController extends QueueController {
  readonly name = 'ttl-after-finished-controller';
  private readonly now: () => number;

  constructor(private readonly o: TtlAfterFinishedOptions) {
    super({
      queueName: 'ttl_jobs_to_delete',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.now = o.now ?? Date.now;
    o.jobs.onChange((c) => {
      if (c.type !== 'deleted' && expiresAt(c.object) !== undefined) this.queue.add(objectKey(c.object));
    });
  }

  protected enqueueAll(): void {
    for (const job of this.o.jobs.cache.list())
      if (expiresAt(job) !== undefined) this.queue.add(objectKey(job));
  }

  async sync(key: string): Promise<void> {
    const cached = this.o.jobs.cache.get(key);
    if (!cached) return;
    const cachedExpiry = expiresAt(cached);
    if (cachedExpiry === undefined) return;
    if (cachedExpiry > this.now()) {
      this.queue.addAfter(key, cachedExpiry - this.now());
      return;
    }
    const path = resourcePath({ ...JOBS, namespace: cached.metadata.namespace, name: cached.metadata.name });
    const fresh = await this.o.api.getIfExists<Job>(path);
    if (!fresh) return;
    const expiry = expiresAt(fresh);
    if (expiry === undefined) return;
    if (expiry > this.now()) {
      this.queue.addAfter(key, expiry - this.now());
      return;
    }
    try {
      await this.o.api.delete(
        path,
        {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: 'Foreground',
          preconditions: { uid: fresh.metadata.uid },
        },
        { cause: Number(fresh.metadata.resourceVersion) },
      );
    } catch (e) {
      if (!ApiError.isNotFound(e)) throw e;
    }
  }
}
