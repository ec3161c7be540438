import { ApiError, type RateLimiter, WorkQueue, type WorkQueueOptions } from '@app/client';

import { type Controller } from '../controller.js';

/**
 * The shape of the controllers that keep something in every namespace (the service-account
 * controller, the root-CA publisher): a queue of namespace names, `workers` goroutines'
 * worth of workers, a failed sync retried with the rate limiter's backoff.
 */
export abstract class NamespaceKeyedController implements Controller {
  abstract readonly name: string;
  readonly queue: WorkQueue<string>;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly workerCount: number,
    rateLimiter: RateLimiter<string> | undefined,
    private readonly onTrouble?: (e: Error, key?: string) => void,
    /** The queue's metrics name and provider. */
    queue?: WorkQueueOptions,
  ) {
    this.queue = new WorkQueue<string>(rateLimiter, queue);
  }

  /** Every namespace known when it starts. */
  protected abstract initialKeys(): string[];

  abstract sync(namespace: string): Promise<void>;

  start(): void {
    if (this.workers.length > 0) return;
    for (const key of this.initialKeys()) this.queue.add(key);
    for (let i = 0; i < this.workerCount; i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    await this.queue.shutdownAndDrain();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        this.onTrouble?.(e as Error, key);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}

/** apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause): the create was refused because the namespace is going. */
export function isNamespaceTerminating(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  const causes = (e.status as { details?: { causes?: { reason?: string }[] } } | undefined)?.details?.causes;
  return (causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
