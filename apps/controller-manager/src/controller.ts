import { type RateLimiter, WorkQueue, type WorkQueueMetrics } from '@app/client';

/**
 * One controller of the controller manager (replicaset, garbage collector, deployment...).
 * The manager starts every enabled controller once this replica leads, after the shared
 * informers have synced, and stops them on shutdown or when leadership is lost.
 */
export interface Controller {
  /** The name `--controllers` enables it by (upstream's: "replicaset", "garbage-collector"...). */
  readonly name: string;
  /** May resolve once it is running (the garbage collector waits for its informers). */
  start(): void | Promise<void>;
  /** Stops taking work and waits for the reconciles in flight. */
  stop(): Promise<void>;
}

/**
 * One worker of a controller (client-go's processNextWorkItem loop): takes keys until the
 * queue shuts down, syncs each, forgets its backoff on success and on error requeues it —
 * rate limited unless `requeue` says otherwise (the namespace controller waits its estimate).
 */
export async function processQueue(
  queue: WorkQueue<string>,
  sync: (key: string) => Promise<void>,
  onError: (e: Error, key: string) => void,
  requeue?: (e: unknown, key: string) => void,
): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      await sync(key);
      queue.forget(key);
    } catch (e) {
      if (requeue) requeue(e, key);
      else {
        onError(e as Error, key);
        queue.addRateLimited(key);
      }
    } finally {
      queue.done(key);
    }
  }
}

export interface QueueControllerOptions {
  /** The work queue's name in its metrics (upstream's: "replicaset", "deployment"...). */
  queueName: string;
  /** Workers syncing at once (upstream's --concurrent-*-syncs). */
  workers: number;
  rateLimiter?: RateLimiter<string>;
  queueMetrics?: (name: string) => WorkQueueMetrics;
  /** Told of each failed sync, which is retried with backoff. */
  onTrouble?: (e: Error, key?: string) => void;
}

/**
 * The shape every reconcile-loop controller here shares: informer handlers add keys to one
 * work queue, `workers` workers sync them (processQueue), and start queues everything the
 * informers already hold. Subclasses say what a key means (`sync`) and what to queue first.
 */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  readonly queue: WorkQueue<string>;
  private running: Promise<void>[] = [];

  constructor(private readonly loop: QueueControllerOptions) {
    this.queue = new WorkQueue<string>(loop.rateLimiter, {
      name: loop.queueName,
      metrics: loop.queueMetrics,
    });
  }

  /** Queues what there is when the controller starts (everything in its informer's cache). */
  protected abstract enqueueAll(): void;

  abstract sync(key: string): Promise<void>;

  /** How a failed sync is retried; default: reported, then after the rate limiter's backoff. */
  protected requeue(e: unknown, key: string): void {
    this.loop.onTrouble?.(e as Error, key);
    this.queue.addRateLimited(key);
  }

  start(): void {
    if (this.running.length > 0) return;
    this.enqueueAll();
    for (let i = 0; i < this.loop.workers; i++)
      this.running.push(
        processQueue(
          this.queue,
          (key) => this.sync(key),
          (e, key) => this.loop.onTrouble?.(e, key),
          (e, key) => this.requeue(e, key),
        ),
      );
  }

  async stop(): Promise<void> {
    await this.queue.shutdownAndDrain();
    await Promise.all(this.running);
  }
}
