import { type LabelSelector } from '@app/api';
import { type StoredObject } from '@app/event-store';

/**
 * The scheduling framework's vocabulary, after kube-scheduler's (pkg/scheduler/framework):
 * plugins see pods and nodes through these views, computed once per change rather than per
 * scheduling attempt, and keep per-attempt results in a CycleState.
 */

/** A Pod or Node object as the informers hold it (read-only: plugins never change one). */
export type KubeObject = StoredObject;

/** Amounts in integer base units: milli-CPU, bytes, counts; extended resources by name. */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Pods: a node's allocatable pod count; for requests, the number of pods. */
  pods: number;
  scalar: Map<string, number>;
}

/** What scoring counts for a pod that requests nothing (upstream: 100m CPU, 200 MiB). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A host port a pod uses: protocol, host IP ("0.0.0.0" for any) and port. */
export interface HostPort {
  protocol: string;
  hostIP: string;
  port: number;
}

/**
 * One pod (anti-)affinity term, parsed once (upstream's framework.AffinityTerm): a pod matches
 * when its namespace is listed or its namespace's labels match `namespaceSelector`, and its
 * labels match `selector` (matchLabelKeys/mismatchLabelKeys already merged in).
 */
export interface AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly namespaceSelector: LabelSelector;
  readonly selector: LabelSelector;
  readonly topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** A node taint and a pod toleration as the API spells them. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** One pod as the scheduler sees it, derived once when the pod changes. */
export interface PodInfo {
  readonly pod: KubeObject;
  readonly key: string;
  /** Effective requests: Σ containers, max'ed with each init container (restartable sidecars added), plus overhead. */
  readonly requests: Resources;
  /**
   * The same with each container's unset CPU/memory request counted as the defaults above
   * (scoring only; an explicit 0 stays 0, as upstream).
   */
  readonly nonZeroRequests: { milliCPU: number; memory: number };
  readonly hostPorts: readonly HostPort[];
  readonly priority: number;
  /** spec.affinity.podAffinity / podAntiAffinity, parsed (InterPodAffinity). */
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
}

/** A node and what is on it (bound and assumed pods), kept current by the scheduler's cache. */
export interface NodeInfo {
  readonly name: string;
  readonly node: KubeObject;
  /** metadata.labels, spec.taints and spec.unschedulable, read once per node change. */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly pods: readonly PodInfo[];
  readonly requested: Resources;
  readonly nonZeroRequested: { milliCPU: number; memory: number };
  readonly allocatable: Resources;
  readonly usedPorts: readonly HostPort[];
  /** Pods on this node with any (anti-)affinity, and with required anti-affinity: InterPodAffinity's shortcuts. */
  readonly podsWithAffinity: readonly PodInfo[];
  readonly podsWithRequiredAntiAffinity: readonly PodInfo[];
  /** Image name (as in node.status.images names) → size in bytes. */
  readonly images: ReadonlyMap<string, number>;
}

/** Every node at the start of one scheduling attempt (nodes change between attempts, not during). */
export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** How many nodes have an image (ImageLocality's spread factor). */
  imageNodeCount(image: string): number;
  /** Nodes with a pod that has any (anti-)affinity / required anti-affinity (InterPodAffinity). */
  readonly nodesWithAffinityPods: readonly NodeInfo[];
  readonly nodesWithRequiredAntiAffinityPods: readonly NodeInfo[];
}

/** Results a plugin computes in PreFilter/PreScore and reads back in Filter/Score, for one attempt. */
export class CycleState {
  private readonly data = new Map<string, unknown>();

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  read<T>(key: string): T {
    if (!this.data.has(key)) throw new Error(`cycle state has no ${key}: its PreFilter/PreScore did not run`);
    return this.data.get(key) as T;
  }

  has(key: string): boolean {
    return this.data.has(key);
  }
}

/**
 * Why a node (or, from PreFilter, every node) does not fit. `Unschedulable` may change when
 * other pods go; `UnschedulableAndUnresolvable` will not (preemption would not help).
 * Reasons are upstream's exact strings: they are counted into the FitError message.
 */
export interface PluginStatus {
  code: 'Unschedulable' | 'UnschedulableAndUnresolvable';
  reasons: string[];
}

/**
 * Upstream's Skip status: from PreFilter, this plugin's Filter has nothing to check for this
 * pod; from PreScore, its Score would give every node the same score. Either way it is not run.
 */
export const SKIP = 'Skip';

/** From PreFilter: only these nodes can possibly fit (NodeAffinity's matchFields metadata.name). */
export interface PreFilterResult {
  readonly nodeNames: ReadonlySet<string>;
}

export interface FilterPlugin {
  readonly name: string;
  preFilter?(
    state: CycleState,
    pod: PodInfo,
    snapshot: Snapshot,
  ): PluginStatus | PreFilterResult | typeof SKIP | undefined;
  /** undefined: the pod fits this node as far as this plugin is concerned. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined;
}

export interface NodeScore {
  name: string;
  score: number;
}

export const MAX_NODE_SCORE = 100;

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** Once per pod over the nodes that passed the filters. */
  preScore?(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    snapshot: Snapshot,
  ): typeof SKIP | undefined;
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales the raw scores in place to 0..MAX_NODE_SCORE (plugins whose raw scores are not already so). */
  normalize?(state: CycleState, pod: PodInfo, scores: NodeScore[]): void;
}
