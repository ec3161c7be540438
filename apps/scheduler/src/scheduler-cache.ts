import { type KubeObject, type PodInfo } from './framework/types.js';
import { NodeSnapshot } from './framework/snapshot.js';
import { podInfo } from './framework/pod-info.js';
import { type Placement, type SchedulingAlgorithm, type SchedulingCache } from './scheduler.js';
import { type QueuedPod } from './queue/scheduling-queue.js';
import { type Profile, schedulePod } from './framework/schedule-one.js';
import { type Snapshot } from './framework/types.js';

interface PlacedPod {
  node: string;
  info: PodInfo;
  /** Placed by this scheduler, its binding not yet seen in the informer. */
  assumed: boolean;
}

/**
 * What every node holds, kept by the informers' changes and by the scheduler's own
 * assumptions (upstream's scheduler cache): a pod the scheduler placed counts against its node
 * from the moment it is assumed, until the informer reports it bound (confirmed) or the
 * binding fails (forgotten). Pods bound to a node the cache does not know yet are kept aside
 * and counted when the node appears.
 */
export class SchedulerCache implements SchedulingCache {
  private readonly view = new NodeSnapshot();
  private readonly placed = new Map<string, PlacedPod>();
  private readonly orphans = new Map<string, Map<string, PodInfo>>();

  snapshot(): Snapshot {
    return this.view;
  }

  podInfo(qp: QueuedPod): PodInfo {
    return podInfo(qp.pod);
  }

  get assumedCount(): number {
    let n = 0;
    for (const p of this.placed.values()) if (p.assumed) n++;
    return n;
  }

  assume(pod: PodInfo, node: string): void {
    this.place(pod.key, node, pod, true);
  }

  forget(key: string): void {
    const p = this.placed.get(key);
    if (p?.assumed) this.unplace(key);
  }

  setNode(node: KubeObject): void {
    const name = node.metadata.name ?? '';
    const known = this.view.get(name) !== undefined;
    this.view.setNode(node);
    if (known) return;
    const waiting = this.orphans.get(name);
    this.orphans.delete(name);
    for (const info of waiting?.values() ?? []) this.view.addPod(name, info);
  }

  removeNode(name: string): void {
    const info = this.view.removeNode(name);
    // Its pods stay known (they may come back with the node, or be deleted).
    if (info && info.pods.length) this.orphans.set(name, new Map(info.pods.map((p) => [p.key, p])));
  }

  /** A pod the informer reports bound (and not finished): it counts against its node. */
  boundPod(pod: KubeObject, key: string, node: string): void {
    this.place(key, node, podInfo(pod), false);
  }

  /** A pod gone, or finished: it no longer counts. True when it was counted somewhere. */
  removePod(key: string): boolean {
    return this.unplace(key);
  }

  private place(key: string, node: string, info: PodInfo, assumed: boolean): void {
    this.unplace(key);
    this.placed.set(key, { node, info, assumed });
    if (this.view.addPod(node, info)) return;
    let waiting = this.orphans.get(node);
    if (!waiting) this.orphans.set(node, (waiting = new Map()));
    waiting.set(key, info);
  }

  private unplace(key: string): boolean {
    const p = this.placed.get(key);
    if (!p) return false;
    this.placed.delete(key);
    if (this.view.removePod(p.node, key)) return true;
    const waiting = this.orphans.get(p.node);
    waiting?.delete(key);
    if (waiting?.size === 0) this.orphans.delete(p.node);
    return true;
  }
}

/** kube-scheduler's algorithm over the cache's snapshot, with the rotating start index carried between pods. */
export class FrameworkAlgorithm implements SchedulingAlgorithm {
  private nextStartIndex = 0;

  constructor(
    private readonly profile: Profile,
    private readonly random: () => number = Math.random,
  ) {}

  place(pod: PodInfo, snapshot: Snapshot): Placement {
    const r = schedulePod(this.profile, pod, snapshot, this.nextStartIndex, this.random);
    this.nextStartIndex = r.nextStartIndex;
    return 'nodeName' in r ? { node: r.nodeName } : { message: r.error };
  }
}
