/**
 * Per-key restart backoff, client-go's flowcontrol.Backoff as the kubelet uses it for crashed
 * containers and failed image pulls (pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff,
 * pkg/kubelet/images/image_manager.go): the first failure waits `baseMs`, each further one
 * doubles it up to `capMs`; an entry is forgotten once the event it is asked about comes more
 * than `resetAfterMs` (upstream: twice the cap) after its last update — a container that ran
 * that long starts the backoff afresh.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 10_000, capMs: 300_000, resetAfterMs: 600_000 };

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly o: BackoffOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The current backoff of `key` in ms (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Backoff.Next: a failure at `eventTime` (ms) — start or double the backoff. */
  next(key: string, eventTime: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) {
      this.entries.set(key, { backoffMs: this.o.baseMs, lastUpdate: this.now() });
      return;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.o.capMs);
    entry.lastUpdate = this.now();
  }

  /** Backoff.IsInBackOffSince: still inside the backoff that started at `eventTime`? */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) return false;
    return this.now() - eventTime < entry.backoffMs;
  }

  /** Backoff.IsInBackOffSinceUpdate: inside the backoff counted from the last failure? */
  isInBackOffSinceUpdate(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) return false;
    return eventTime - entry.lastUpdate < entry.backoffMs;
  }

  /** How long until the backoff that started at `since` is over (0 when it is). */
  remaining(key: string, since: number): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, since + entry.backoffMs - this.now());
  }

  /** ms until the backoff counted from the last failure is over. */
  remainingSinceUpdate(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.lastUpdate + entry.backoffMs - this.now());
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key starting with `prefix` (a pod's containers once the pod is gone). */
  resetPrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private expired(eventTime: number, entry: Entry): boolean {
    return eventTime - entry.lastUpdate > this.o.resetAfterMs;
  }
}

/** A duration as Go's time.Duration.String prints it: 10s, 1m20s, 5m0s, 200ms, 1.6s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trimFraction(ms)}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const s = `${trimFraction(seconds)}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}`;
  if (minutes > 0) return `${minutes}m${s}`;
  return s;
}

function trimFraction(n: number): string {
  return String(Number(n.toFixed(9)));
}
