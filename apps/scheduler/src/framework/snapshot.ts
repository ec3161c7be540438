import { MutableNodeInfo, type NodeInfoObserver } from './node-info.js';
import { type KubeObject, type NodeInfo, type PodInfo, type Snapshot } from './types.js';

/**
 * Every node and its pods, kept current between scheduling attempts: the scheduler's cache
 * changes it through these methods (never during an attempt), and the derived lists
 * (image counts, nodes with affinity pods) follow.
 */
export class NodeSnapshot implements Snapshot, NodeInfoObserver {
  private readonly list: MutableNodeInfo[] = [];
  private readonly byName = new Map<string, MutableNodeInfo>();
  private readonly imageCounts = new Map<string, number>();
  private affinityListsStale = true;
  private withAffinity: NodeInfo[] = [];
  private withRequiredAntiAffinity: NodeInfo[] = [];

  constructor(nodes: Iterable<KubeObject | MutableNodeInfo> = []) {
    for (const n of nodes) this.setNode(n);
  }

  get nodes(): readonly MutableNodeInfo[] {
    return this.list;
  }

  get(name: string): MutableNodeInfo | undefined {
    return this.byName.get(name);
  }

  imageNodeCount(image: string): number {
    return this.imageCounts.get(image) ?? 0;
  }

  get nodesWithAffinityPods(): readonly NodeInfo[] {
    this.refreshAffinityLists();
    return this.withAffinity;
  }

  get nodesWithRequiredAntiAffinityPods(): readonly NodeInfo[] {
    this.refreshAffinityLists();
    return this.withRequiredAntiAffinity;
  }

  affinityPodsChanged(): void {
    this.affinityListsStale = true;
  }

  /** Adds a node, or takes a new version of one (its pods stay). */
  setNode(node: KubeObject | MutableNodeInfo): MutableNodeInfo {
    const name = node instanceof MutableNodeInfo ? node.name : (node.metadata.name ?? '');
    const existing = this.byName.get(name);
    if (existing !== undefined && !(node instanceof MutableNodeInfo)) {
      this.countImages(existing, -1);
      existing.setNode(node);
      this.countImages(existing, 1);
      return existing;
    }
    if (existing !== undefined) this.removeNode(name);
    const info = node instanceof MutableNodeInfo ? node : new MutableNodeInfo(node);
    info.observer = this;
    this.list.push(info);
    this.byName.set(name, info);
    this.countImages(info, 1);
    this.affinityListsStale = true;
    return info;
  }

  removeNode(name: string): MutableNodeInfo | undefined {
    const info = this.byName.get(name);
    if (info === undefined) return undefined;
    this.byName.delete(name);
    this.list.splice(this.list.indexOf(info), 1);
    this.countImages(info, -1);
    info.observer = undefined;
    this.affinityListsStale = true;
    return info;
  }

  /** Puts a pod on a node (bound, or assumed by the scheduler); false when the node is unknown. */
  addPod(nodeName: string, pod: PodInfo): boolean {
    const info = this.byName.get(nodeName);
    if (info === undefined) return false;
    info.addPod(pod);
    return true;
  }

  removePod(nodeName: string, key: string): PodInfo | undefined {
    return this.byName.get(nodeName)?.removePod(key);
  }

  private countImages(info: MutableNodeInfo, delta: 1 | -1): void {
    for (const image of info.images.keys()) {
      const n = (this.imageCounts.get(image) ?? 0) + delta;
      if (n === 0) this.imageCounts.delete(image);
      else this.imageCounts.set(image, n);
    }
  }

  private refreshAffinityLists(): void {
    if (!this.affinityListsStale) return;
    this.withAffinity = this.list.filter((n) => n.podsWithAffinity.length > 0);
    this.withRequiredAntiAffinity = this.list.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    this.affinityListsStale = false;
  }
}
