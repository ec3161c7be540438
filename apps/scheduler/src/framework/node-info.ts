import { nodeSpec, nodeStatus } from './api-types.js';
import { hasAffinity, hasRequiredAntiAffinity } from './pod-info.js';
import { addResources, emptyResources, resourcesFromList } from './resources.js';
import {
  type HostPort,
  type KubeObject,
  type NodeInfo,
  type PodInfo,
  type Resources,
  type Taint,
} from './types.js';

/** Told when a node's pods with (anti-)affinity change, so derived node lists can be rebuilt. */
export interface NodeInfoObserver {
  affinityPodsChanged(): void;
}

/**
 * A node and the pods bound or assumed onto it. Adding and removing a pod is O(pods on the
 * node) at worst and allocates nothing but the arrays' growth: the scheduler assumes every pod
 * it places and undoes that when binding fails.
 */
export class MutableNodeInfo implements NodeInfo {
  readonly name: string;
  node!: KubeObject;
  labels!: Readonly<Record<string, string>>;
  taints!: readonly Taint[];
  unschedulable!: boolean;
  allocatable!: Resources;
  images!: ReadonlyMap<string, number>;
  readonly pods: PodInfo[] = [];
  readonly requested: Resources = emptyResources();
  readonly nonZeroRequested = { milliCPU: 0, memory: 0 };
  readonly usedPorts: HostPort[] = [];
  readonly podsWithAffinity: PodInfo[] = [];
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  observer: NodeInfoObserver | undefined;

  constructor(node: KubeObject, pods: readonly PodInfo[] = []) {
    this.name = node.metadata.name ?? '';
    this.setNode(node);
    for (const p of pods) this.addPod(p);
  }

  /** Takes a new version of the node object, keeping its pods. */
  setNode(node: KubeObject): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    const spec = nodeSpec(node);
    this.taints = spec.taints ?? [];
    this.unschedulable = spec.unschedulable === true;
    const status = nodeStatus(node);
    this.allocatable = resourcesFromList(status.allocatable ?? status.capacity);
    const images = new Map<string, number>();
    for (const image of status.images ?? []) {
      for (const name of image.names ?? []) images.set(name, image.sizeBytes ?? 0);
    }
    this.images = images;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    addResources(this.requested, p.requests);
    this.nonZeroRequested.milliCPU += p.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory += p.nonZeroRequests.memory;
    for (const port of p.hostPorts) this.usedPorts.push(port);
    if (hasAffinity(p)) {
      this.podsWithAffinity.push(p);
      if (hasRequiredAntiAffinity(p)) this.podsWithRequiredAntiAffinity.push(p);
      this.observer?.affinityPodsChanged();
    }
  }

  /** Removes the pod with this key (namespace/name); returns it, or undefined when absent. */
  removePod(key: string): PodInfo | undefined {
    const p = removeWhere(this.pods, (x) => x.key === key);
    if (p === undefined) return undefined;
    addResources(this.requested, p.requests, -1);
    this.nonZeroRequested.milliCPU -= p.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory -= p.nonZeroRequests.memory;
    for (const port of p.hostPorts) {
      removeWhere(
        this.usedPorts,
        (u) => u.port === port.port && u.protocol === port.protocol && u.hostIP === port.hostIP,
      );
    }
    if (removeWhere(this.podsWithAffinity, (x) => x === p) !== undefined) {
      removeWhere(this.podsWithRequiredAntiAffinity, (x) => x === p);
      this.observer?.affinityPodsChanged();
    }
    return p;
  }
}

/** Removes the first element matching; swaps in the last one (order carries no meaning here). */
function removeWhere<T>(list: T[], match: (x: T) => boolean): T | undefined {
  for (let i = 0; i < list.length; i++) {
    if (match(list[i])) {
      const found = list[i];
      const last = list.pop() as T;
      if (i < list.length) list[i] = last;
      return found;
    }
  }
  return undefined;
}
