import { type ApiClient, ApiError, type Informer, resourcePath } from '@app/client';

import { type Controller } from '../controller.js';
import { type Pod } from '../replicaset/pod-types.js';
import {
  type GcNode,
  terminatedOverThreshold,
  terminatingOnOutOfServiceNodes,
  unscheduledTerminating,
} from './gc-selection.js';
import { NodeQuarantine } from './node-quarantine.js';

/** gc_controller.go gcCheckPeriod. */
export const GC_CHECK_PERIOD_MS = 20_000;
/** gc_controller.go quarantineTime. */
export const QUARANTINE_MS = 40_000;
/** --terminated-pod-gc-threshold's default (cmd/kube-controller-manager/app/options/podgccontroller.go). */
export const TERMINATED_POD_GC_THRESHOLD = 12_500;
/** The field manager of PodGC's status applies (gc_controller.go fieldManager). */
const FIELD_MANAGER = 'PodGC';

const POD = { group: '', version: 'v1', plural: 'pods' };
const NODE = { group: '', version: 'v1', plural: 'nodes' };

export interface PodGcOptions {
  api: ApiClient;
  pods: Informer<Pod>;
  nodes: Informer<GcNode>;
  /** --terminated-pod-gc-threshold: terminated pods kept before the oldest go (0: never). */
  terminatedPodThreshold?: number;
  periodMs?: number;
  quarantineMs?: number;
  onTrouble?: (e: Error) => void;
}

interface DisruptionCondition {
  type: 'DisruptionTarget';
  status: 'True';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/**
 * The pod garbage collector (pkg/controller/podgc/gc_controller.go): every period it reads the
 * shared pod and node caches and force-deletes terminated pods over the threshold, terminating
 * pods on out-of-service nodes, pods bound to nodes that no longer exist, and terminating pods
 * that were never scheduled. It keeps no per-object state but the node quarantine, so a new
 * leader simply starts over. Every write names the pod version it acted on as its cause.
 */
export class PodGc implements Controller {
  readonly name = 'pod-garbage-collector';
  private readonly quarantine: NodeQuarantine;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(private readonly o: PodGcOptions) {
    this.quarantine = new NodeQuarantine(o.quarantineMs ?? QUARANTINE_MS);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** wait.UntilWithContext(gc, gcCheckPeriod): one pass, then the period, never two at once. */
  private tick(): void {
    if (this.stopped) return;
    this.running = this.gc()
      .catch((e: Error) => this.o.onTrouble?.(e))
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.o.periodMs ?? GC_CHECK_PERIOD_MS);
      });
  }

  /** gc_controller.go gc: the four sweeps, in upstream's order. */
  async gc(): Promise<void> {
    const pods = this.o.pods.cache.list();
    const node = (name: string) => this.o.nodes.cache.get(name);
    await this.deleteAll(
      terminatedOverThreshold(pods, this.o.terminatedPodThreshold ?? TERMINATED_POD_GC_THRESHOLD),
    );
    await this.deleteAll(terminatingOnOutOfServiceNodes(pods, node));
    await this.gcOrphaned(pods);
    await this.deleteAll(unscheduledTerminating(pods));
  }

  /**
   * gcOrphaned: pods bound to a node missing from the cache quarantine that node; once its
   * quarantine is over and a GET confirms it is gone, its pods are marked and force-deleted.
   */
  private async gcOrphaned(pods: readonly Pod[]): Promise<void> {
    const now = Date.now();
    for (const p of pods) {
      const nodeName = p.spec?.nodeName;
      if (nodeName && !this.o.nodes.cache.get(nodeName)) this.quarantine.add(nodeName, now);
    }
    const deleted = new Set<string>();
    for (const name of this.quarantine.takeDue(now)) {
      if (this.o.nodes.cache.get(name)) continue;
      try {
        await this.o.api.get(resourcePath({ ...NODE, name }));
      } catch (e) {
        // An error other than NotFound leaves the node alone; the next pass queues it again.
        if (ApiError.isNotFound(e)) deleted.add(name);
        else this.o.onTrouble?.(e as Error);
      }
    }
    if (deleted.size === 0) return;
    const orphans = pods.filter((p) => deleted.has(p.spec?.nodeName ?? ''));
    await this.deleteAll(orphans, {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByPodGC',
      message: 'PodGC: node no longer exists',
      lastTransitionTime: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  }

  /** Upstream deletes each sweep's pods concurrently and waits for all; errors are reported, not fatal. */
  private async deleteAll(pods: readonly Pod[], condition?: DisruptionCondition): Promise<void> {
    const results = await Promise.allSettled(pods.map((p) => this.markFailedAndDelete(p, condition)));
    for (const r of results)
      if (r.status === 'rejected' && !ApiError.isNotFound(r.reason)) this.o.onTrouble?.(r.reason as Error);
  }

  /**
   * markFailedAndDeletePodWithCondition: a pod not yet terminal is first moved to Failed (with
   * the DisruptionTarget condition when given) by a forced server-side apply of its status as
   * field manager PodGC, so whoever waits on its phase (a Job) sees it fail; then it is deleted
   * with grace period 0.
   */
  private async markFailedAndDelete(pod: Pod, condition?: DisruptionCondition): Promise<void> {
    const cause = Number(pod.metadata.resourceVersion);
    const path = resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name });
    const phase = pod.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') {
      const status = { phase: 'Failed', ...(condition ? { conditions: [condition] } : {}) };
      await this.o.api.patch(
        `${path}/status?fieldManager=${FIELD_MANAGER}&force=true`,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
          status,
        },
        { cause, contentType: 'application/apply-patch+yaml' },
      );
    }
    await this.o.api.delete(
      path,
      { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
      { cause },
    );
  }
}
