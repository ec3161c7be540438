/** The DaemonSet controller's failedPodsBackoff: 1 s, doubling to 15 min (daemon_controller.go). */
export const FAILED_POD_BACKOFF_MS: [number, number] = [1000, 15 * 60 * 1000];

interface Entry {
  durationMs: number;
  lastUpdate: number;
}

/**
 * client-go's flowcontrol.Backoff as the DaemonSet controller uses it, keyed by DaemonSet uid
 * and node: a failed daemon pod is deleted (and replaced) at once, the next one on that node
 * only after 1 s, then 2 s, 4 s... so a pod that fails on start does not spin. An entry idle
 * for twice the maximum starts again from the initial delay.
 */
export class FailedPodsBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs = FAILED_POD_BACKOFF_MS[0],
    private readonly maxMs = FAILED_POD_BACKOFF_MS[1],
  ) {}

  /**
   * 0 when a failed pod under `key` may be deleted now (the backoff then moves on, as
   * upstream's Next), else how long until it may (IsInBackOffSinceUpdate).
   */
  next(key: string, now: number): number {
    const e = this.entries.get(key);
    if (e && now - e.lastUpdate < e.durationMs) return e.durationMs - (now - e.lastUpdate);
    if (!e || now - e.lastUpdate > 2 * this.maxMs)
      this.entries.set(key, { durationMs: this.initialMs, lastUpdate: now });
    else this.entries.set(key, { durationMs: Math.min(2 * e.durationMs, this.maxMs), lastUpdate: now });
    return 0;
  }

  /** Backoff.GC: forgets the entries idle for twice the maximum. */
  gc(now: number): void {
    for (const [k, e] of this.entries) if (now - e.lastUpdate > 2 * this.maxMs) this.entries.delete(k);
  }
}
