import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  splitKey,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';
import { jsonEqual } from '@app/event-store';

import { type Controller, processQueue } from '../controller.js';
import { type Node, type Taint } from '../node-lifecycle/node-types.js';
import { type Pod } from '../replicaset/pod-types.js';
import { matchingTolerations, minTolerationMs, noExecuteTaints, type PodToleration } from './tolerations.js';
import { TimedWorkerQueue } from './timed-workers.js';

const PODS = { group: '', version: 'v1', plural: 'pods' };
/** deletePodHandler's retries. */
const DELETE_RETRIES = 5;

type TolerantPod = Pod & { spec?: Pod['spec'] & { tolerations?: PodToleration[] } };

export interface TaintEvictionControllerOptions {
  api: ApiClient;
  nodes: Informer<Node>;
  /** The shared pods informer, with its `node` index. */
  pods: Informer<Pod>;
  events: EventRecorder;
  rateLimiter?: RateLimiter<string>;
  now?: () => number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The taint eviction controller (pkg/controller/tainteviction/taint_eviction.go): a pod on a
 * node with NoExecute taints it does not all tolerate is deleted at once; one that tolerates
 * them is deleted once the shortest tolerationSeconds of the tolerations used has passed
 * (counted from when the taint was seen), never if none is limited. The deletion is
 * cancelled when the taint goes, the pod leaves or its tolerations change. Before deleting it
 * sets the pod's DisruptionTarget condition (DeletionByTaintManager) and records
 * TaintManagerEviction.
 */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  readonly nodeQueue: WorkQueue<string>;
  readonly podQueue: WorkQueue<string>;
  private readonly evictions: TimedWorkerQueue;
  /** taintedNodes: the NoExecute taints of each node that has any. */
  private readonly tainted = new Map<string, Taint[]>();
  private readonly now: () => number;
  private workers: Promise<void>[] = [];

  constructor(private readonly o: TaintEvictionControllerOptions) {
    this.now = o.now ?? Date.now;
    this.nodeQueue = new WorkQueue<string>(o.rateLimiter, {
      name: 'taint_eviction_nodes',
      metrics: o.queueMetrics,
    });
    this.podQueue = new WorkQueue<string>(o.rateLimiter, {
      name: 'taint_eviction_pods',
      metrics: o.queueMetrics,
    });
    this.evictions = new TimedWorkerQueue((key, fireAt) => this.deletePod(key, fireAt));
    o.nodes.onChange((c) => this.nodeChanged(c));
    o.pods.onChange((c) => this.podChanged(c));
  }

  start(): void {
    if (this.workers.length) return;
    for (const n of this.o.nodes.cache.list())
      if (noExecuteTaints(n.spec?.taints).length) this.nodeQueue.add(n.metadata.name);
    this.workers.push(
      processQueue(this.nodeQueue, async (name) => this.handleNodeUpdate(name), this.trouble),
      processQueue(this.podQueue, async (key) => this.handlePodUpdate(key), this.trouble),
    );
  }

  async stop(): Promise<void> {
    await Promise.all([this.nodeQueue.shutdownAndDrain(), this.podQueue.shutdownAndDrain()]);
    await Promise.all(this.workers);
    await this.evictions.stop();
  }

  private readonly trouble = (e: Error, key?: string) => this.o.onTrouble?.(e, key);

  /** NodeUpdated: only a change of the NoExecute taints matters. */
  private nodeChanged(c: CacheChange<Node>): void {
    const before = c.type === 'updated' ? noExecuteTaints(c.old.spec?.taints) : [];
    const after = c.type === 'deleted' ? [] : noExecuteTaints(c.object.spec?.taints);
    if (c.type !== 'deleted' && jsonEqual(before, after)) return;
    this.nodeQueue.add(c.object.metadata.name);
  }

  /** PodUpdated: only a new node or new tolerations matter (and a deletion). */
  private podChanged(c: CacheChange<Pod>): void {
    if (c.type === 'updated') {
      const [old, pod] = [c.old as TolerantPod, c.object as TolerantPod];
      if (
        old.spec?.nodeName === pod.spec?.nodeName &&
        jsonEqual(old.spec?.tolerations ?? [], pod.spec?.tolerations ?? [])
      )
        return;
    }
    this.podQueue.add(objectKey(c.object));
  }

  private handlePodUpdate(key: string): void {
    const pod = this.o.pods.cache.get(key) as TolerantPod | undefined;
    if (!pod) {
      this.cancelWithEvent(key);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    // The node was deleted or untainted before: any eviction was cancelled then.
    const taints = this.tainted.get(nodeName);
    if (!taints) return;
    this.processPodOnNode(key, pod.spec?.tolerations ?? [], taints, this.now());
  }

  private handleNodeUpdate(name: string): void {
    const node = this.o.nodes.cache.get(name);
    if (!node) {
      this.tainted.delete(name);
      return;
    }
    const taints = noExecuteTaints(node.spec?.taints);
    // taintedNodes must be current before the pods are looked at (a pod changing meanwhile reads it).
    if (taints.length) this.tainted.set(name, taints);
    else this.tainted.delete(name);
    const pods = this.o.pods.cache.byIndex('node', name) as TolerantPod[];
    const now = this.now();
    for (const pod of pods) {
      const key = objectKey(pod);
      if (!taints.length) this.cancelWithEvent(key);
      else this.processPodOnNode(key, pod.spec?.tolerations ?? [], taints, now);
    }
  }

  /** processPodOnNode: delete now, schedule the deletion, or cancel it. */
  private processPodOnNode(key: string, tolerations: PodToleration[], taints: Taint[], now: number): void {
    if (taints.length === 0) this.cancelWithEvent(key);
    const { allTolerated, used } = matchingTolerations(taints, tolerations);
    if (!allTolerated) {
      this.cancelWithEvent(key);
      this.evictions.add(key, now, now, now);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancelWithEvent(key);
      return;
    }
    let startTime = now;
    const triggerTime = now + min;
    const scheduled = this.evictions.get(key);
    if (scheduled) {
      startTime = scheduled.createdAt;
      if (startTime + min < triggerTime) return;
      this.cancelWithEvent(key);
    }
    this.evictions.add(key, startTime, triggerTime, now);
  }

  private cancelWithEvent(key: string): void {
    if (this.evictions.cancel(key)) this.event(key, `Cancelling deletion of Pod ${key}`);
  }

  private event(key: string, message: string): void {
    const { namespace, name } = splitKey(key);
    const pod = this.o.pods.cache.get(key);
    const object = pod
      ? { ...pod, apiVersion: 'v1', kind: 'Pod' }
      : { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } };
    this.o.events.record({
      object,
      type: 'Normal',
      reason: 'TaintManagerEviction',
      message,
      cause: pod ? Number(pod.metadata.resourceVersion) : undefined,
    });
  }

  /** deletePodHandler: the event, then addConditionAndDeletePod, retried a few times. */
  private async deletePod(key: string, _fireAt: number): Promise<void> {
    this.event(key, `Marking for deletion Pod ${key}`);
    let error: unknown;
    for (let i = 0; i < DELETE_RETRIES; i++) {
      try {
        await this.addConditionAndDeletePod(key);
        return;
      } catch (e) {
        error = e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    this.trouble(error as Error, key);
    throw error;
  }

  private async addConditionAndDeletePod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const path = resourcePath({ ...PODS, namespace, name });
    const pod = await this.o.api.getIfExists<Pod>(path);
    // Gone already: nothing left to evict.
    if (!pod) return;
    const cause = Number(pod.metadata.resourceVersion);
    const target = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    if (target?.status !== 'True' || (target as { reason?: string }).reason !== 'DeletionByTaintManager') {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint',
        lastTransitionTime: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      // PatchPodStatus: a strategic merge on conditions (merged by type), so others' conditions stay.
      await this.o.api.patch(
        `${path}/status`,
        { status: { conditions: [condition] } },
        { cause, contentType: 'application/strategic-merge-patch+json' },
      );
    }
    try {
      await this.o.api.delete(path, undefined, { cause });
    } catch (e) {
      if (!ApiError.isNotFound(e)) throw e;
    }
  }
}
