import { type StoredObject } from '@app/event-store';

import { type ApiClient, ApiError, resourcePath } from '../api/api-client.js';

export interface LeaderElectionOptions {
  api: ApiClient;
  namespace: string;
  /** The Lease's name: one per component (kube-scheduler, kube-controller-manager, ...). */
  name: string;
  /** This process, as other candidates see it in `holderIdentity`. */
  identity: string;
  /** How long a leader's claim lasts unrenewed (upstream default 15 s). */
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long steps down (upstream default 10 s). */
  renewDeadlineMs?: number;
  /** How often candidates try and leaders renew (upstream default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading?: (fence: string) => void;
  onStoppedLeading?: () => void;
  onTrouble?: (error: Error) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = StoredObject & { spec?: LeaseSpec };

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 * candidates try every retry period; a lease is free when its holder has not renewed it for
 * its duration, measured on our own clock from when we last saw it change (never by comparing
 * clocks); taking it over bumps `leaseTransitions`; every change is an optimistic-concurrency
 * update, so two candidates cannot both win. A leader that cannot renew within the renew
 * deadline stops leading. Unlike client-go, leadership is also a fence: writes carry
 * `<namespace>/<name>@<leaseTransitions>`, and the store refuses them once another candidate
 * has taken the lease, so a leader paused past its lease cannot write after it wakes.
 */
export class LeaderElector {
  private observed?: { resourceVersion: string; at: number };
  private leading?: { transitions: number };
  private stopped = false;
  private release = true;
  private running?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly o: LeaderElectionOptions) {}

  /** The fence to send with writes while leading; undefined otherwise. */
  get fence(): string | undefined {
    return this.leading ? `${this.o.namespace}/${this.o.name}@${this.leading.transitions}` : undefined;
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** Campaigns until elected, leads until the lease is lost or `stop` is called. */
  run(): Promise<void> {
    this.running ??= this.campaignAndLead();
    return this.running;
  }

  /**
   * Stops campaigning or leading and waits for the loop to end. A leader hands the lease back
   * (unless told not to: a crash does not), so a standby need not wait it out; the hand-back
   * happens in the loop, after any attempt in flight, so it cannot race a renewal.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.release = release;
    this.wake?.();
    await this.running;
  }

  private async campaignAndLead(): Promise<void> {
    const retry = this.o.retryPeriodMs ?? 2000;
    const deadline = this.o.renewDeadlineMs ?? 10_000;
    while (!this.stopped && !this.leading) {
      await this.attempt();
      if (!this.leading) await this.sleep(retry);
    }
    if (this.leading && !this.stopped) {
      this.o.onStartedLeading?.(this.fence as string);
      let lastRenew = Date.now();
      while (!this.stopped) {
        await this.sleep(retry);
        if (this.stopped) break;
        if (await this.attempt()) lastRenew = Date.now();
        else if (!this.leading || Date.now() - lastRenew > deadline) break;
      }
    }
    const wasLeading = this.leading !== undefined;
    if (wasLeading && this.stopped && this.release) await this.handBack();
    this.leading = undefined;
    if (wasLeading) this.o.onStoppedLeading?.();
  }

  private async handBack(): Promise<void> {
    const lease = await this.read().catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.o.identity) return;
    await this.o.api
      .update(this.path(lease.metadata.name), {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 },
      })
      .catch((e: Error) => this.o.onTrouble?.(e));
  }

  /** One try to acquire or renew; true when we hold the lease afterwards. */
  private async attempt(): Promise<boolean> {
    try {
      const lease = await this.read();
      const now = new Date();
      const spec = this.claim(now, 0);
      if (!lease) {
        const created = await this.o.api.create<Lease>(this.path(), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec,
        });
        return this.won(created);
      }
      this.observe(lease);
      const held = lease.spec?.holderIdentity;
      const ours = held === this.o.identity;
      if (!ours && held && !this.expired(lease)) {
        this.leading = undefined;
        return false;
      }
      const transitions = (lease.spec?.leaseTransitions ?? 0) + (ours ? 0 : 1);
      const updated = await this.o.api.update<Lease>(this.path(lease.metadata.name), {
        ...lease,
        spec: {
          ...this.claim(now, transitions),
          ...(ours && lease.spec?.acquireTime ? { acquireTime: lease.spec.acquireTime } : {}),
        },
      });
      return this.won(updated);
    } catch (e) {
      // A conflict is another candidate's win (we see it on the next read); anything else is trouble.
      if (!ApiError.isConflict(e)) this.o.onTrouble?.(e as Error);
      return false;
    }
  }

  private claim(now: Date, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.max(1, Math.round((this.o.leaseDurationMs ?? 15_000) / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
  }

  private won(lease: Lease): boolean {
    this.observe(lease);
    this.leading = { transitions: lease.spec?.leaseTransitions ?? 0 };
    return true;
  }

  /** Remembers when (on our clock) the lease last changed: expiry is judged from that, not from its timestamps. */
  private observe(lease: Lease): void {
    const rv = lease.metadata.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, at: Date.now() };
  }

  private expired(lease: Lease): boolean {
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    return Date.now() - (this.observed?.at ?? 0) > durationMs;
  }

  private read(): Promise<Lease | undefined> {
    return this.o.api.getIfExists<Lease>(this.path(this.o.name));
  }

  private path(name?: string): string {
    return resourcePath({
      group: 'coordination.k8s.io',
      version: 'v1',
      plural: 'leases',
      namespace: this.o.namespace,
      name,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * How long one request of an election may take: client-go's NewFromKubeconfig gives its client
 * half the renew deadline, at least a second — long enough that a busy server or event loop
 * does not cost the lease over one slow answer, short enough that an attempt (a read and a
 * write) that hangs ends about when the deadline does, so the leader steps down in time. Never
 * more than the deadline itself (short test timings).
 */
export function leaseRequestTimeoutMs(renewDeadlineMs = 10_000): number {
  return Math.min(renewDeadlineMs, Math.max(1000, renewDeadlineMs / 2));
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
