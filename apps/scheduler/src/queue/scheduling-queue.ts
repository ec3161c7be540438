import { type KubeObject } from '../framework/types.js';
import { Heap } from './heap.js';

export interface QueuedPod {
  readonly key: string;
  pod: KubeObject;
  priority: number;
  /** When the pod first entered the queue (PrioritySort's tie-break; also create→bound latency). */
  readonly enqueuedAt: number;
  attempts: number;
  /** When its last attempt ended (backoff counts from there). */
  lastAttemptAt: number;
  /** Which scheduling cycle popped it last. */
  cycle: number;
}

export interface SchedulingQueueOptions {
  /** Backoff after a failed attempt: initial·2^(attempts−1) up to max (upstream 1 s → 10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An unschedulable pod is retried after this long even if nothing relevant happened (upstream 5 min). */
  maxUnschedulableMs?: number;
  now?: () => number;
}

/**
 * kube-scheduler's scheduling queue: an active heap ordered by priority then arrival
 * (PrioritySort), a backoff heap of pods that failed and wait out their backoff, and the
 * unschedulable pods, parked until a cluster change that could help them (a node added or
 * changed, a pod deleted) moves them back. A change that happens while a pod is being
 * scheduled sends it to backoff rather than the unschedulable set, so it is not missed.
 * Pods with scheduling gates wait outside the queue until the gates are removed.
 */
export class SchedulingQueue {
  private readonly active = new Heap<QueuedPod>(
    (p) => p.key,
    (a, b) => a.priority > b.priority || (a.priority === b.priority && a.enqueuedAt < b.enqueuedAt),
  );
  private readonly backoff = new Heap<QueuedPod>(
    (p) => p.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly gated = new Map<string, QueuedPod>();
  /** Pods popped and not yet settled: an update meanwhile is kept for their return. */
  private readonly inFlight = new Map<string, QueuedPod>();
  private readonly waiters: ((p: QueuedPod | undefined) => void)[] = [];
  private schedulingCycle = 0;
  private moveRequestCycle = -1;
  private backoffTimer?: NodeJS.Timeout;
  private readonly flushTimer: NodeJS.Timeout;
  private closed = false;
  private readonly now: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;

  constructor(o: SchedulingQueueOptions = {}) {
    this.now = o.now ?? Date.now;
    this.initialBackoffMs = o.initialBackoffMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = o.maxUnschedulableMs ?? 300_000;
    this.flushTimer = setInterval(() => this.flushUnschedulable(), Math.min(30_000, this.maxUnschedulableMs));
    this.flushTimer.unref();
  }

  get pending(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return {
      active: this.active.size,
      backoff: this.backoff.size,
      unschedulable: this.unschedulable.size,
      gated: this.gated.size,
    };
  }

  has(key: string): boolean {
    return (
      this.active.has(key) ||
      this.backoff.has(key) ||
      this.unschedulable.has(key) ||
      this.gated.has(key) ||
      this.inFlight.has(key)
    );
  }

  /**
   * A pod to schedule appeared or changed. A change retries a parked pod at once, unless
   * `retry` is false (a change that cannot make it fit: the new copy is kept, it stays parked).
   */
  add(key: string, pod: KubeObject, priority: number, o: { retry?: boolean } = {}): void {
    if (this.closed) return;
    if (this.has(key)) return this.update(key, pod, priority, o);
    const now = this.now();
    const qp: QueuedPod = { key, pod, priority, enqueuedAt: now, attempts: 0, lastAttemptAt: now, cycle: -1 };
    if (isGated(pod)) this.gated.set(key, qp);
    else this.activate(qp);
  }

  /** A waiting pod changed: it is retried at once if it was parked as unschedulable or gated. */
  update(key: string, pod: KubeObject, priority: number, o: { retry?: boolean } = {}): void {
    const flying = this.inFlight.get(key);
    if (flying) {
      flying.pod = pod;
      flying.priority = priority;
      return;
    }
    for (const heap of [this.active, this.backoff]) {
      const qp = heap.get(key);
      if (qp) {
        qp.pod = pod;
        qp.priority = priority;
        heap.push(qp);
        return;
      }
    }
    const parked = this.unschedulable.get(key) ?? this.gated.get(key);
    if (!parked) return this.add(key, pod, priority);
    parked.pod = pod;
    parked.priority = priority;
    if (this.gated.has(key)) {
      if (isGated(pod)) return;
      this.gated.delete(key);
      return this.activate(parked);
    }
    if (o.retry === false) return;
    this.unschedulable.delete(key);
    this.moveOut(parked);
  }

  /** The pod went (deleted, or bound by someone else). */
  delete(key: string): void {
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.gated.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to schedule: highest priority, then longest waiting; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.flushBackoff();
    const next = this.active.pop();
    if (next) return Promise.resolve(this.start(next));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The attempt found no node: park it until a relevant change (or back off, if one came meanwhile). */
  unschedulableAfterAttempt(qp: QueuedPod): void {
    if (!this.settle(qp)) return;
    if (this.moveRequestCycle >= qp.cycle) this.toBackoff(qp);
    else this.unschedulable.set(qp.key, qp);
  }

  /** The attempt failed for another reason (bind refused, API error): retry after its backoff. */
  errorAfterAttempt(qp: QueuedPod): void {
    if (this.settle(qp)) this.toBackoff(qp);
  }

  /** The pod is placed: it leaves the queue for good. */
  done(qp: QueuedPod): void {
    // By identity: a pod deleted and recreated under the same name meanwhile is another entry.
    if (this.inFlight.get(qp.key) === qp) this.inFlight.delete(qp.key);
  }

  /**
   * Something changed that could make parked pods schedulable: retry them (after their
   * backoff); `withPodAffinityOnly` for a pod placed or relabelled, which only pods with
   * pod affinity terms could be waiting for.
   */
  moveAllToActiveOrBackoff(o: { withPodAffinityOnly?: boolean } = {}): void {
    if (!o.withPodAffinityOnly) this.moveRequestCycle = this.schedulingCycle;
    for (const [key, qp] of this.unschedulable) {
      if (o.withPodAffinityOnly && !hasPodAffinity(qp.pod)) continue;
      this.unschedulable.delete(key);
      this.moveOut(qp);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  backoffMs(attempts: number): number {
    if (attempts <= 0) return 0;
    return Math.min(this.initialBackoffMs * 2 ** (attempts - 1), this.maxBackoffMs);
  }

  private start(qp: QueuedPod): QueuedPod {
    qp.cycle = ++this.schedulingCycle;
    this.inFlight.set(qp.key, qp);
    return qp;
  }

  /** Ends an attempt; false when the pod was deleted meanwhile (it must not come back). */
  private settle(qp: QueuedPod): boolean {
    if (this.inFlight.get(qp.key) !== qp) return false;
    this.inFlight.delete(qp.key);
    qp.attempts++;
    qp.lastAttemptAt = this.now();
    return !this.closed;
  }

  private moveOut(qp: QueuedPod): void {
    if (this.now() < this.backoffExpiry(qp)) this.toBackoff(qp);
    else this.activate(qp);
  }

  private activate(qp: QueuedPod): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.start(qp));
    else this.active.push(qp);
  }

  private toBackoff(qp: QueuedPod): void {
    this.backoff.push(qp);
    this.armBackoffTimer();
  }

  private backoffExpiry(qp: QueuedPod): number {
    return qp.lastAttemptAt + this.backoffMs(qp.attempts);
  }

  private flushBackoff(): void {
    const now = this.now();
    for (
      let head = this.backoff.peek();
      head && this.backoffExpiry(head) <= now;
      head = this.backoff.peek()
    ) {
      this.backoff.pop();
      this.activate(head);
    }
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    const head = this.backoff.peek();
    if (!head || this.closed) return;
    this.backoffTimer = setTimeout(
      () => this.flushBackoff(),
      Math.max(0, this.backoffExpiry(head) - this.now()),
    );
    this.backoffTimer.unref();
  }

  private flushUnschedulable(): void {
    const now = this.now();
    for (const [key, qp] of this.unschedulable)
      if (now - qp.lastAttemptAt >= this.maxUnschedulableMs) {
        this.unschedulable.delete(key);
        this.moveOut(qp);
      }
  }
}

function isGated(pod: KubeObject): boolean {
  const gates = (pod.spec as { schedulingGates?: unknown[] } | undefined)?.schedulingGates;
  return Array.isArray(gates) && gates.length > 0;
}

function hasPodAffinity(pod: KubeObject): boolean {
  const affinity = (
    pod.spec as { affinity?: { podAffinity?: unknown; podAntiAffinity?: unknown } } | undefined
  )?.affinity;
  return affinity?.podAffinity !== undefined || affinity?.podAntiAffinity !== undefined;
}
