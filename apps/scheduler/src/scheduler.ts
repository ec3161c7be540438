import { type EventRecorder } from '@app/client';

import { type PodInfo, type Snapshot } from './framework/types.js';
import { type PodWrites } from './api/pod-writes.js';
import { type QueuedPod, type SchedulingQueue } from './queue/scheduling-queue.js';
import { type SchedulerMetrics } from './scheduler-metrics.js';

/** Where one pod should go, or why it cannot go anywhere. */
export type Placement = { node: string } | { node?: undefined; message: string };

/** The filters and scores over a snapshot (schedule_one's algorithm). */
export interface SchedulingAlgorithm {
  place(pod: PodInfo, snapshot: Snapshot): Placement;
}

/** The scheduler's view of the cluster, with pods assumed onto nodes before their binding lands. */
export interface SchedulingCache {
  snapshot(): Snapshot;
  podInfo(qp: QueuedPod): PodInfo;
  assume(pod: PodInfo, node: string): void;
  /** The binding failed: the assumed pod no longer counts against its node. */
  forget(key: string): void;
}

/** PodScheduled=False writes in flight at most: they must never crowd out bindings and lease renewals. */
const MAX_STATUS_WRITES = 16;

/**
 * The scheduling loop (schedule_one.go): take the next pod from the queue, place it against
 * the current snapshot, assume it onto the chosen node at once (so the next pod, scheduled
 * while this binding is in flight, already sees it), and bind asynchronously; a failed
 * binding is forgotten and the pod retried after its backoff. A pod that fits nowhere gets
 * PodScheduled=False and a FailedScheduling event, and waits for a cluster change.
 */
export class Scheduler {
  private readonly binding = new Set<Promise<void>>();
  /** Resolved when a binding settles: the loop waits on it when the in-flight bound is reached. */
  private slotFreed?: () => void;
  private statusWrites = 0;
  private stopped = false;

  constructor(
    private readonly o: {
      queue: SchedulingQueue;
      cache: SchedulingCache;
      algorithm: SchedulingAlgorithm;
      writes: PodWrites;
      events: EventRecorder;
      /** Bindings in flight at most (upstream runs each in a goroutine; this bounds them). */
      maxBindingsInFlight?: number;
      metrics: SchedulerMetrics;
      /** PreBind (VolumeBinding's): runs before the binding; its failure fails the binding. */
      preBind?: (pod: QueuedPod['pod'], node: string, cause: number | undefined) => Promise<void>;
      onTrouble?: (e: Error, pod: string) => void;
    },
  ) {}

  get metrics(): SchedulerMetrics {
    return this.o.metrics;
  }

  /** Schedules until the queue closes; then waits for the bindings in flight. */
  async run(): Promise<void> {
    const max = this.o.maxBindingsInFlight ?? 256;
    while (!this.stopped) {
      // One waiter for a free slot, not a race over every binding in flight (O(n) per pod).
      while (this.binding.size >= max) await new Promise<void>((r) => (this.slotFreed = r));
      const qp = await this.o.queue.pop();
      if (!qp) break;
      this.scheduleOne(qp);
    }
    await Promise.allSettled([...this.binding]);
  }

  stop(): void {
    this.stopped = true;
    this.o.queue.close();
  }

  private scheduleOne(qp: QueuedPod): void {
    try {
      this.attempt(qp);
    } catch (e) {
      // Whatever failed (a plugin, the cache), the pod is retried and the loop goes on.
      this.metrics.error();
      this.o.onTrouble?.(e as Error, qp.key);
      this.o.cache.forget(qp.key);
      this.o.queue.errorAfterAttempt(qp);
    }
  }

  private attempt(qp: QueuedPod): void {
    const { cache, queue } = this.o;
    const pod = cache.podInfo(qp);
    const placement = this.o.algorithm.place(pod, cache.snapshot());
    const cause = Number(qp.pod.metadata.resourceVersion) || undefined;
    if (placement.node === undefined) {
      this.metrics.unschedulable();
      queue.unschedulableAfterAttempt(qp);
      this.o.events.record({
        object: qp.pod,
        type: 'Warning',
        reason: 'FailedScheduling',
        message: placement.message,
        cause,
      });
      this.markUnschedulable(qp, placement.message, cause);
      return;
    }
    const node = placement.node;
    cache.assume(pod, node);
    const bound = this.preBindAndBind(qp.pod, node, cause).then(
      () => {
        queue.done(qp);
        this.metrics.scheduled(Date.now() - qp.enqueuedAt);
        const { namespace, name } = qp.pod.metadata;
        this.o.events.record({
          object: qp.pod,
          type: 'Normal',
          reason: 'Scheduled',
          message: `Successfully assigned ${namespace}/${name} to ${node}`,
          cause,
        });
      },
      (e: Error) => {
        this.metrics.error();
        cache.forget(qp.key);
        queue.errorAfterAttempt(qp);
        this.o.onTrouble?.(e, qp.key);
      },
    );
    this.binding.add(bound);
    void bound.finally(() => {
      this.binding.delete(bound);
      this.slotFreed?.();
      this.slotFreed = undefined;
    });
  }

  /** The binding cycle's PreBind (VolumeBinding waits for the pod's claims here), then the Binding. */
  private async preBindAndBind(
    pod: QueuedPod['pod'],
    node: string,
    cause: number | undefined,
  ): Promise<void> {
    await this.o.preBind?.(pod, node, cause);
    await this.o.writes.bind(pod, node, cause);
  }

  private markUnschedulable(qp: QueuedPod, message: string, cause: number | undefined): void {
    if (this.statusWrites >= MAX_STATUS_WRITES) {
      this.metrics.statusWriteSkipped();
      return;
    }
    this.statusWrites++;
    void this.o.writes
      .markUnschedulable(qp.pod, message, cause)
      .catch((e: Error) => this.o.onTrouble?.(e, qp.key))
      .finally(() => this.statusWrites--);
  }
}
