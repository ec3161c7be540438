import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  retryOnConflict,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';

import { type Controller, processQueue } from '../controller.js';
import { type Pod } from '../replicaset/pod-types.js';
import { assessNodeHealth, type NodeHealth } from './node-health.js';
import {
  metaTime,
  type Node,
  type NodeCondition,
  nodeCondition,
  type NodeLease,
  NODE_LEASE_NAMESPACE,
  NOT_READY_TAINT,
  type Taint,
  UNREACHABLE_TAINT,
} from './node-types.js';
import { notReadyStatus } from './pod-readiness.js';
import { RateLimitedTimedQueue } from './rate-limited-queue.js';
import { noScheduleTaintChanges, swapTaints, taintExists } from './taints.js';
import {
  computeZoneState,
  disruptionDecision,
  excludedFromDisruptionChecks,
  zoneEvictionRate,
  type ZoneState,
  zoneKey,
} from './zone-state.js';

const NODES = { group: '', version: 'v1', plural: 'nodes' };
const PODS = { group: '', version: 'v1', plural: 'pods' };

/** scheduler.NodeEvictionPeriod: how often the NoExecute tainting pass runs. */
const TAINTING_PERIOD_MS = 100;
/** nodeUpdateWorkerSize: nodes whose health is looked at concurrently in a pass. */
const NODE_UPDATE_WORKERS = 8;
/** nodeStatusUpdateRetry / UpdateTaintBackoff's steps. */
const RETRIES = 5;

/** --node-monitor-period and the rest of NodeLifecycleControllerConfiguration, upstream's defaults. */
export interface NodeLifecycleSettings {
  /** --node-monitor-period (5 s). */
  monitorPeriodMs: number;
  /** --node-monitor-grace-period (50 s). */
  gracePeriodMs: number;
  /** --node-startup-grace-period (60 s). */
  startupGracePeriodMs: number;
  /** --node-eviction-rate (0.1 nodes/s). */
  evictionRate: number;
  /** --secondary-node-eviction-rate (0.01 nodes/s). */
  secondaryEvictionRate: number;
  /** --unhealthy-zone-threshold (0.55). */
  unhealthyZoneThreshold: number;
  /** --large-cluster-size-threshold (50). */
  largeClusterSizeThreshold: number;
}

export const NODE_LIFECYCLE_DEFAULTS: NodeLifecycleSettings = {
  monitorPeriodMs: 5_000,
  gracePeriodMs: 50_000,
  startupGracePeriodMs: 60_000,
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
};

export interface NodeLifecycleControllerOptions {
  api: ApiClient;
  nodes: Informer<Node>;
  leases: Informer<NodeLease>;
  /** The shared pods informer, with its `node` index. */
  pods: Informer<Pod>;
  events: EventRecorder;
  settings?: Partial<NodeLifecycleSettings>;
  rateLimiter?: RateLimiter<string>;
  now?: () => number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The node lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go):
 * every monitor period it judges each node's health from its Lease and Ready condition,
 * writes the conditions Unknown when the node fell silent past the grace period, marks the
 * pods of a node gone not-ready NotReady, and queues the node for its NoExecute taint
 * (not-ready or unreachable) in its zone's rate-limited queue; the tainting pass takes from
 * those queues at the zone's rate, which depends on how disrupted the zone is, and stops
 * altogether (untainting every node) when every zone is fully disrupted. Apart from that,
 * node changes keep the NoSchedule condition taints in step (TaintNodesByCondition).
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  readonly nodeQueue: WorkQueue<string>;
  readonly podQueue: WorkQueue<string>;
  private readonly settings: NodeLifecycleSettings;
  private readonly now: () => number;
  private readonly known = new Map<string, Node>();
  private readonly health = new Map<string, NodeHealth>();
  private readonly zoneStates = new Map<string, ZoneState>();
  readonly zoneTainters = new Map<string, RateLimitedTimedQueue>();
  /** nodesToRetry: nodes whose pods could not all be marked NotReady. */
  private readonly podsToRetry = new Set<string>();
  private workers: Promise<void>[] = [];
  /** The next run of each periodic loop. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private monitoring = false;
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly o: NodeLifecycleControllerOptions) {
    this.settings = { ...NODE_LIFECYCLE_DEFAULTS, ...o.settings };
    this.now = o.now ?? Date.now;
    this.nodeQueue = new WorkQueue<string>(o.rateLimiter, {
      name: 'node_lifecycle_controller',
      metrics: o.queueMetrics,
    });
    this.podQueue = new WorkQueue<string>(o.rateLimiter, {
      name: 'node_lifecycle_controller_pods',
      metrics: o.queueMetrics,
    });
    o.nodes.onChange((c) => {
      if (c.type !== 'deleted') this.nodeQueue.add(c.object.metadata.name);
    });
    o.pods.onChange((c) => this.podChanged(c));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const n of this.o.nodes.cache.list()) this.nodeQueue.add(n.metadata.name);
    this.workers.push(
      processQueue(this.nodeQueue, (name) => this.syncNoScheduleTaints(name), this.trouble),
      processQueue(this.podQueue, (key) => this.processPod(key), this.trouble),
    );
    this.every('monitor', this.settings.monitorPeriodMs, async () => {
      this.monitoring = true;
      try {
        await this.monitorNodeHealth();
      } finally {
        this.monitoring = false;
      }
    });
    this.every('tainting', TAINTING_PERIOD_MS, () => this.doNoExecuteTaintingPass());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([this.nodeQueue.shutdownAndDrain(), this.podQueue.shutdownAndDrain()]);
    await Promise.all(this.workers);
  }

  private readonly trouble = (e: Error, key?: string) => this.o.onTrouble?.(e, key);

  /** wait.Until: runs `fn`, then again a period after it finished, until stopped. */
  private every(loop: string, periodMs: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (!this.running) return;
      const run = fn().catch((e: Error) => this.trouble(e));
      this.inFlight.add(run);
      void run.then(() => {
        this.inFlight.delete(run);
        if (this.running) this.timers.set(loop, setTimeout(tick, periodMs));
      });
    };
    this.timers.set(loop, setTimeout(tick, 0));
  }

  // --- pods of a not-ready node (podUpdated / processPod) ---

  private podChanged(c: CacheChange<Pod>): void {
    if (c.type === 'deleted') return;
    const node = c.object.spec?.nodeName;
    if (node && (c.type === 'added' || c.old.spec?.nodeName !== node)) this.podQueue.add(objectKey(c.object));
  }

  private async processPod(key: string): Promise<void> {
    const pod = this.o.pods.cache.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const ready = this.health.get(nodeName)?.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  // --- monitorNodeHealth ---

  /** One pass over every node: health, taint-based eviction, pods NotReady, then the zones' disruption. */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.o.nodes.cache.list();
    const current = new Set(nodes.map((n) => n.metadata.name));
    for (const node of nodes) {
      if (!this.zoneTainters.has(zoneKey(node))) this.addZone(zoneKey(node));
      if (this.known.has(node.metadata.name)) continue;
      this.known.set(node.metadata.name, node);
      this.recordNode(
        node,
        'Normal',
        'RegisteredNode',
        `Registered Node ${node.metadata.name} in Controller`,
      );
      await this.markNodeAsReachable(node);
    }
    for (const [name, node] of this.known) {
      if (current.has(name)) continue;
      this.recordNode(node, 'Normal', 'RemovingNode', `Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
      this.zoneTainters.get(zoneKey(node))?.remove(name);
    }
    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    // nodeUpdateWorkerSize: nodes are looked at by 8 workers at once, so that many writes do not queue.
    let next = 0;
    const worker = async () => {
      while (next < nodes.length) await this.updateNode(nodes[next++], zoneConditions);
    };
    await Promise.all(Array.from({ length: NODE_UPDATE_WORKERS }, worker));
    this.handleDisruption(zoneConditions, nodes);
  }

  /** monitorNodeHealth's updateNodeFunc: one node's health, taints and pods; its Ready condition counted in its zone. */
  private async updateNode(
    cached: Node,
    zoneConditions: Map<string, (NodeCondition | undefined)[]>,
  ): Promise<void> {
    const verdict = await this.tryUpdateNodeHealth(cached);
    if (!verdict) return;
    const { node, observedReady, currentReady } = verdict;
    if (!excludedFromDisruptionChecks(node)) {
      const zone = zoneKey(node);
      zoneConditions.set(zone, [...(zoneConditions.get(zone) ?? []), currentReady]);
    }
    if (!currentReady) return;
    const name = node.metadata.name;
    await this.processTaintBasedEviction(node, observedReady);
    const becameNotReady = currentReady.status !== 'True' && observedReady.status === 'True';
    if (becameNotReady)
      this.recordNode(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    if (becameNotReady || (this.podsToRetry.has(name) && observedReady.status !== 'True')) {
      try {
        await this.markPodsNotReady(this.o.pods.cache.byIndex('node', name), name);
      } catch (e) {
        this.trouble(e as Error, name);
        this.podsToRetry.add(name);
        return;
      }
    }
    this.podsToRetry.delete(name);
  }

  /** tryUpdateNodeHealth with monitorNodeHealth's retries: on a failed write, read the node again. */
  private async tryUpdateNodeHealth(
    cached: Node,
  ): Promise<{ node: Node; observedReady: NodeCondition; currentReady?: NodeCondition } | undefined> {
    let node = cached;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const name = node.metadata.name;
      const lease = this.o.leases.cache.get(`${NODE_LEASE_NAMESPACE}/${name}`);
      const now = this.now();
      const a = assessNodeHealth(node, this.health.get(name), lease, now, this.settings);
      this.health.set(name, a.health);
      if (!a.write) return { node, observedReady: a.observedReady, currentReady: a.currentReady };
      try {
        const written = await this.o.api.update<Node>(
          `${resourcePath({ ...NODES, name })}/status`,
          { ...node, status: a.write.status },
          { cause: Number(node.metadata.resourceVersion) },
        );
        this.health.set(name, a.write.health);
        return { node: written, observedReady: a.observedReady, currentReady: a.currentReady };
      } catch (e) {
        if (ApiError.isNotFound(e)) return undefined;
        this.trouble(e as Error, name);
        try {
          node = await this.o.api.get<Node>(resourcePath({ ...NODES, name }));
        } catch (e2) {
          if (!ApiError.isNotFound(e2)) this.trouble(e2 as Error, name);
          return undefined;
        }
      }
    }
    this.trouble(new Error(`node ${cached.metadata.name}: status not updated after ${RETRIES} tries`));
    return undefined;
  }

  /**
   * processTaintBaseEviction: a node observed NotReady or Unknown goes to its zone's tainting
   * queue (or has its taint swapped at once when it carries the other one), a Ready node is
   * untainted.
   */
  private async processTaintBasedEviction(node: Node, observedReady: NodeCondition): Promise<void> {
    const taints = node.spec?.taints;
    if (observedReady.status === 'False') {
      if (taintExists(taints, UNREACHABLE_TAINT))
        await this.swapNodeTaints(node, [NOT_READY_TAINT], [UNREACHABLE_TAINT]);
      else this.markNodeForTainting(node, NOT_READY_TAINT);
    } else if (observedReady.status === 'Unknown') {
      if (taintExists(taints, NOT_READY_TAINT))
        await this.swapNodeTaints(node, [UNREACHABLE_TAINT], [NOT_READY_TAINT]);
      else this.markNodeForTainting(node, UNREACHABLE_TAINT);
    } else if (observedReady.status === 'True') {
      await this.markNodeAsReachable(node);
    }
  }

  /** markNodeForTainting: requeued from scratch when the node lacks the taint it now needs. */
  private markNodeForTainting(node: Node, taint: Taint): void {
    const queue = this.zoneTainters.get(zoneKey(node)) ?? this.addZone(zoneKey(node));
    if (!taintExists(node.spec?.taints, taint)) queue.remove(node.metadata.name);
    queue.add(node.metadata.name, node.metadata.uid ?? '');
  }

  /** markNodeAsReachable: off come both NoExecute taints, out of the tainting queue it goes. */
  private async markNodeAsReachable(node: Node): Promise<void> {
    await this.swapNodeTaints(node, [], [UNREACHABLE_TAINT, NOT_READY_TAINT]);
    this.zoneTainters.get(zoneKey(node))?.remove(node.metadata.name);
  }

  private addZone(zone: string): RateLimitedTimedQueue {
    const queue = new RateLimitedTimedQueue(this.settings.evictionRate, this.now);
    this.zoneTainters.set(zone, queue);
    this.zoneStates.set(zone, 'Initial');
    return queue;
  }

  /** handleDisruption: each zone's state from its nodes' Ready conditions, and the tainting rates that follow. */
  private handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: Node[]): void {
    const newStates = new Map<string, ZoneState>();
    for (const [zone, conditions] of zoneConditions) {
      newStates.set(zone, computeZoneState(conditions, this.settings.unhealthyZoneThreshold).state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    for (const zone of [...this.zoneStates.keys()])
      if (!zoneConditions.has(zone)) this.zoneStates.delete(zone);
    const decision = disruptionDecision(this.zoneStates, newStates);
    const setRate = (zone: string, state: ZoneState) =>
      this.zoneTainters
        .get(zone)
        ?.swapLimiter(zoneEvictionRate(state, zoneConditions.get(zone)?.length ?? 0, this.settings));
    switch (decision.kind) {
      case 'enter-full-disruption':
        this.trouble(new Error('every node is not ready: entering master disruption mode, no evictions'));
        // Untainting is best effort, as upstream's: a failure is reported and the next pass tries again.
        for (const node of nodes) this.untaintLater(node);
        for (const zone of this.zoneStates.keys()) {
          this.zoneTainters.get(zone)?.swapLimiter(0);
          this.zoneStates.set(zone, 'FullDisruption');
        }
        return;
      case 'exit-full-disruption': {
        const now = this.now();
        for (const node of nodes) {
          const h = this.health.get(node.metadata.name);
          if (h)
            this.health.set(node.metadata.name, { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
        }
        for (const zone of this.zoneStates.keys()) {
          const state = newStates.get(zone) ?? 'Normal';
          setRate(zone, state);
          this.zoneStates.set(zone, state);
        }
        return;
      }
      case 'per-zone':
        for (const zone of decision.changed) {
          const state = newStates.get(zone) ?? 'Normal';
          setRate(zone, state);
          this.zoneStates.set(zone, state);
        }
        return;
      case 'none':
        return;
    }
  }

  private untaintLater(node: Node): void {
    this.zoneTainters.get(zoneKey(node))?.remove(node.metadata.name);
    const run = this.swapNodeTaints(node, [], [UNREACHABLE_TAINT, NOT_READY_TAINT]).then(
      () => undefined,
      (e: Error) => this.trouble(e, node.metadata.name),
    );
    this.inFlight.add(run);
    void run.then(() => this.inFlight.delete(run));
  }

  // --- doNoExecuteTaintingPass ---

  /**
   * Takes due nodes from every zone's queue, at the zone's rate, and gives each the NoExecute
   * taint its Ready condition calls for (unreachable and not-ready exclude each other, like
   * the condition's values). It waits while a health pass runs, so that a pass's verdict on
   * the zones (full disruption: no tainting) comes before any taint it queued.
   */
  async doNoExecuteTaintingPass(): Promise<void> {
    if (this.monitoring) return;
    for (const queue of [...this.zoneTainters.values()])
      await queue.try(async (name) => {
        const node = this.o.nodes.cache.get(name);
        const ready = node && nodeCondition(node, 'Ready');
        if (!node || !ready) return { done: true };
        let add: Taint;
        let remove: Taint;
        if (ready.status === 'False') [add, remove] = [NOT_READY_TAINT, UNREACHABLE_TAINT];
        else if (ready.status === 'Unknown') [add, remove] = [UNREACHABLE_TAINT, NOT_READY_TAINT];
        else return { done: true };
        try {
          await this.swapNodeTaints(node, [add], [remove]);
          return { done: true };
        } catch (e) {
          this.trouble(e as Error, name);
          return { done: false };
        }
      });
  }

  // --- TaintNodesByCondition ---

  private async syncNoScheduleTaints(name: string): Promise<void> {
    const node = this.o.nodes.cache.get(name);
    if (!node) return;
    const { add, remove } = noScheduleTaintChanges(node);
    if (add.length || remove.length) await this.swapNodeTaints(node, add, remove);
  }

  // --- writes ---

  /**
   * SwapNodeControllerTaint: adds and removes taints on the node as it is now, re-reading it
   * on a conflict (AddOrUpdateTaintOnNode's retry). No write when nothing would change.
   */
  private async swapNodeTaints(cached: Node, add: Taint[], remove: Taint[]): Promise<void> {
    const path = resourcePath({ ...NODES, name: cached.metadata.name });
    await retryOnConflict(
      cached,
      () => this.o.api.get<Node>(path),
      async (node) => {
        const taints = swapTaints(node.spec?.taints, add, remove, metaTime(this.now()));
        if (!taints) return;
        await this.o.api
          .update<Node>(
            path,
            { ...node, spec: { ...node.spec, taints } },
            { cause: Number(node.metadata.resourceVersion) },
          )
          .catch((e: unknown) => {
            if (!ApiError.isNotFound(e)) throw e;
          });
      },
      RETRIES,
    );
  }

  /** MarkPodsNotReady: the Ready condition of each pod of the node False, with a NodeNotReady event. */
  private async markPodsNotReady(pods: Pod[], nodeName: string): Promise<void> {
    const errors: Error[] = [];
    for (const pod of pods) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const status = notReadyStatus(pod, metaTime(this.now()));
      if (!status) continue;
      const cause = Number(pod.metadata.resourceVersion);
      try {
        await this.o.api.update(
          resourcePath({
            ...PODS,
            namespace: pod.metadata.namespace,
            name: pod.metadata.name,
            subresource: 'status',
          }),
          { ...pod, status },
          { cause },
        );
      } catch (e) {
        if (!ApiError.isNotFound(e)) errors.push(e as Error);
        continue;
      }
      const object = { apiVersion: 'v1', kind: 'Pod', ...pod };
      this.o.events.record({
        object,
        type: 'Warning',
        reason: 'NodeNotReady',
        message: 'Node is not ready',
        cause,
      });
    }
    if (errors.length) throw errors[0];
  }

  /** RecordNodeEvent / RecordNodeStatusChange. */
  private recordNode(node: Node, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const object = { ...node, apiVersion: 'v1', kind: 'Node' };
    this.o.events.record({ object, type, reason, message, cause: Number(node.metadata.resourceVersion) });
  }
}
