interface TimedWorker {
  createdAt: number;
  fireAt: number;
  timer: NodeJS.Timeout;
}

/**
 * TimedWorkerQueue (pkg/controller/tainteviction/timed_workers.go): one delayed piece of
 * work per key, run at its fire time. Work that succeeded leaves its key behind (held, not
 * re-added) until cancelled, so a pod already deleted is not deleted again on every change;
 * work that failed frees its key.
 */
export class TimedWorkerQueue {
  /** undefined: the work ran and succeeded. */
  private readonly workers = new Map<string, TimedWorker | undefined>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly work: (key: string, fireAt: number) => Promise<void>) {}

  /** AddWork: schedules the key's work at fireAt unless the key already has some. */
  add(key: string, createdAt: number, fireAt: number, now: number): void {
    if (this.stopped || this.workers.has(key)) return;
    const worker: TimedWorker = {
      createdAt,
      fireAt,
      timer: setTimeout(() => this.fire(key, worker), Math.max(0, fireAt - now)),
    };
    this.workers.set(key, worker);
  }

  /** CancelWork: true when pending work was cancelled. */
  cancel(key: string): boolean {
    if (!this.workers.has(key)) return false;
    const w = this.workers.get(key);
    this.workers.delete(key);
    if (!w) return false;
    clearTimeout(w.timer);
    return true;
  }

  /** GetWorkerUnsafe: the pending work of a key. */
  get(key: string): { createdAt: number; fireAt: number } | undefined {
    const w = this.workers.get(key);
    return w && { createdAt: w.createdAt, fireAt: w.fireAt };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) if (w) clearTimeout(w.timer);
    this.workers.clear();
    await Promise.allSettled([...this.running]);
  }

  private fire(key: string, worker: TimedWorker): void {
    // Cancelled (and perhaps added again) while it ran: the key is no longer this worker's.
    const ours = () => this.workers.get(key) === worker;
    const run = this.work(key, worker.fireAt).then(
      () => {
        if (ours()) this.workers.set(key, undefined);
      },
      () => {
        if (ours()) this.workers.delete(key);
      },
    );
    this.running.add(run);
    void run.then(() => this.running.delete(run));
  }
}
