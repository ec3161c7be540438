export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A batch on its way: `done` settles with each request's outcome, or rejects if the batch failed. */
export interface BatchStart<T> {
  done: Promise<Outcome<T>[]>;
}

/**
 * Starts a batch. Resolves when the next batch may be started — at once for a sink that
 * commits one batch at a time, or once the batch is planned and sent for a pipelining one.
 */
export type StartBatch<Req, Res> = (batch: Req[]) => Promise<BatchStart<Res>>;

export interface GroupCommitterOptions {
  /** Most batches started but not yet settled (1: strictly one after another). */
  depth?: number;
  /** Called with the size of every batch started. */
  onBatch?: (size: number) => void;
}

interface Pending<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: requests that arrive while batches are being committed wait and go together in
 * the next one. There is no timer — an idle store commits a lone request at once — and each
 * request still gets its own outcome (success, conflict, ...) from its batch.
 *
 * Up to `depth` batches may be under way at once, so that the next batch can be prepared
 * while the previous one commits.
 *
 * When a whole batch fails (not one request's outcome, but the transaction), it is retried one
 * request at a time, so that one bad request cannot fail the others that shared its batch.
 */
export class GroupCommitter<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private draining?: Promise<void>;
  private active = false;
  private closed = false;
  /** Wakes a drain loop that waits for either a batch to settle or a request to arrive. */
  private wake?: () => void;
  private readonly depth: number;

  constructor(
    private readonly startBatch: StartBatch<Req, Res>,
    private readonly maxBatch: number,
    private readonly options: GroupCommitterOptions = {},
  ) {
    this.depth = Math.max(1, options.depth ?? 1);
  }

  submit(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.wake?.();
      this.kick();
    });
  }

  /**
   * Starts a drain loop unless one runs. The loop's end re-checks the queue: a request
   * submitted by a continuation of the batch just settled lands after the loop's last look.
   */
  private kick(): void {
    if (this.active) return;
    // Set before the loop starts: a callback of the loop (onBatch, startBatch) that submits
    // must not start a second loop.
    this.active = true;
    this.draining = this.drain().finally(() => {
      this.active = false;
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Stops taking requests and waits for those already queued. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    const underWay = new Set<Promise<void>>();
    /** Requests in the batches under way. */
    let inFlight = 0;
    for (;;) {
      if (this.queue.length > 0 && underWay.size < this.depth) {
        const batch = this.queue.splice(0, Math.min(this.maxBatch, this.share(inFlight)));
        this.options.onBatch?.(batch.length);
        inFlight += batch.length;
        const run = this.commit(batch);
        const settled = run.finally(() => {
          underWay.delete(settled);
          inFlight -= batch.length;
        });
        underWay.add(settled);
        await run.started;
        continue;
      }
      if (underWay.size === 0) return;
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([...underWay, arrived]);
      this.wake = undefined;
    }
  }

  /**
   * How many queued requests the next batch takes: an even share of everything waiting or under
   * way across the `depth` places. A closed loop of N writers then settles into `depth` batches
   * of N/depth, so one batch is planned while the one ahead of it commits. Taking the whole
   * queue instead makes them alternate N-1 and 1: the large batch is planned while the store
   * has only the lone one to write, and written while there is nothing left to plan.
   */
  private share(inFlight: number): number {
    return Math.max(1, Math.ceil((this.queue.length + inFlight) / this.depth));
  }

  /** Starts `batch` and settles its requests; `started` resolves when the next may start. */
  private commit(batch: Pending<Req, Res>[]): Promise<void> & { started: Promise<void> } {
    let started!: () => void;
    const whenStarted = new Promise<void>((resolve) => (started = resolve));
    const settled = (async () => {
      let outcomes: Outcome<Res>[];
      try {
        const start = this.startBatch(batch.map((p) => p.request));
        // The next batch may start once this one is sent, whether or not it goes on to fail.
        void start.then(started, started);
        outcomes = await (await start).done;
      } catch (error) {
        started();
        if (batch.length === 1) return batch[0].reject(error);
        for (const one of batch) await this.commit([one]);
        return;
      }
      batch.forEach((p, i) => {
        const o: Outcome<Res> = outcomes[i] ?? {
          ok: false,
          error: new Error(`the batch returned ${outcomes.length} outcomes for ${batch.length} requests`),
        };
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
    })();
    return Object.assign(settled, { started: whenStarted });
  }
}
