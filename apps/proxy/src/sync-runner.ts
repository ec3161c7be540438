/**
 * Runs an async sync after each burst of triggers: at most one at a time, and one more after
 * it when triggers came in meanwhile, so the last change is always applied. `coalesceMs`
 * lets a burst (a Service and its EndpointSlice arriving together) share one sync.
 */
export class SyncRunner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly sync: () => Promise<void>,
    private readonly o: { coalesceMs?: number; onError: (e: Error) => void },
  ) {}

  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop();
    }, this.o.coalesceMs ?? 0);
  }

  /** Waits for the sync under way, if any; no more start after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.sync();
      } catch (e) {
        this.o.onError(e as Error);
      }
    } while (this.again && !this.stopped);
    this.running = undefined;
  }
}
