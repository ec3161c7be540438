import { ExponentialBackoff } from '@app/client';

import { type NodeLeaseRenewer } from './node-lease.js';
import { type NodeStatusReporter } from './node-status-reporter.js';

export interface NodeHeartbeatOptions {
  /** Lease renewal: every 10 s upstream (a quarter of the 40 s lease). */
  leaseRenewMs?: number;
  /** nodeStatusUpdateFrequency: status computed every 10 s upstream. */
  statusSyncMs?: number;
  /** After a failed renewal, retry this soon (upstream: 200 ms doubling to 7 s). */
  retryMs?: [number, number];
  onTrouble?: (what: string, e: Error) => void;
}

/**
 * Keeps a registered node alive: renews its Lease and syncs its status on their own
 * intervals; a failure is retried with backoff, never dropped.
 */
export class NodeHeartbeat {
  private timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  /** Per loop (lease renewal, node status): a failure retries sooner, backing off. */
  private readonly retries: ExponentialBackoff<string>;

  constructor(
    private readonly lease: NodeLeaseRenewer,
    private readonly status: NodeStatusReporter,
    private readonly o: NodeHeartbeatOptions = {},
  ) {
    const [base, cap] = o.retryMs ?? [200, 7_000];
    this.retries = new ExponentialBackoff(base, cap);
  }

  start(): void {
    this.stopped = false;
    this.loop('lease renewal', () => this.lease.renew(), this.o.leaseRenewMs ?? 10_000);
    this.loop('node status', () => this.status.sync(), this.o.statusSyncMs ?? 10_000);
  }

  /** Stops the timers and waits for a renewal or sync under way, so none outlives its client. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.allSettled([...this.inFlight]);
  }

  private loop(what: string, work: () => Promise<unknown>, everyMs: number): void {
    const tick = async () => {
      if (this.stopped) return;
      let wait = everyMs;
      const running = work();
      this.inFlight.add(running);
      try {
        await running;
        this.retries.forget(what);
      } catch (e) {
        this.o.onTrouble?.(what, e as Error);
        wait = this.retries.when(what);
      } finally {
        this.inFlight.delete(running);
      }
      if (this.stopped) return;
      this.timers = this.timers.filter((t) => t !== timer);
      timer = setTimeout(() => void tick(), wait);
      this.timers.push(timer);
    };
    let timer = setTimeout(() => void tick(), 0);
    this.timers.push(timer);
  }
}
