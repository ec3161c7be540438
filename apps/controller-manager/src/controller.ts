import { type WorkQueue } from '@app/client';

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
 * queue shuts down, syncs each, forgets its backoff on success and requeues it rate limited
 * on error.
 */
export async function processQueue(
  queue: WorkQueue<string>,
  sync: (key: string) => Promise<void>,
  onError: (e: Error, key: string) => void,
): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      await sync(key);
      queue.forget(key);
    } catch (e) {
      onError(e as Error, key);
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
    }
  }
}
