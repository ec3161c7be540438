export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Pending<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: requests that arrive while a batch is being committed wait and go together in
 * the next one. There is no timer — an idle store commits a lone request at once — and each
 * request still gets its own outcome (success, conflict, ...) from `commitBatch`.
 *
 * When a whole batch fails (not one request's outcome, but the transaction), it is retried one
 * request at a time, so that one bad request cannot fail the others that shared its batch.
 */
export class GroupCommitter<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private draining?: Promise<void>;
  private active = false;
  private closed = false;

  constructor(
    private readonly commitBatch: (batch: Req[]) => Promise<Outcome<Res>[]>,
    private readonly maxBatch: number,
    private readonly onBatch?: (size: number) => void,
  ) {}

  submit(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts a drain loop unless one runs. The loop's end re-checks the queue: a request
   * submitted by a continuation of the batch just settled lands after the loop's last look.
   */
  private kick(): void {
    if (this.active) return;
    // Set before the loop starts: a callback of the loop (onBatch, commitBatch) that submits
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
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.onBatch?.(batch.length);
      await this.commit(batch);
    }
  }

  private async commit(batch: Pending<Req, Res>[]): Promise<void> {
    let outcomes: Outcome<Res>[];
    try {
      outcomes = await this.commitBatch(batch.map((p) => p.request));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      for (const one of batch) await this.commit([one]);
      return;
    }
    batch.forEach((p, i) => {
      const o: Outcome<Res> = outcomes[i] ?? {
        ok: false,
        error: new Error(`commitBatch returned ${outcomes.length} outcomes for ${batch.length} requests`),
      };
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}
