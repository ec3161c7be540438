import { matchesAllTerms, type NamespaceLabels, termMatches } from '../affinity-term.js';
import { hasAnyLabel } from '../label-match.js';
import {
  type CycleState,
  type FilterPlugin,
  type KubeObject,
  MAX_NODE_SCORE,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  SKIP,
  type ScorePlugin,
  type Snapshot,
  type WeightedAffinityTerm,
} from '../types.js';

export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const PRE_FILTER_KEY = 'InterPodAffinity/preFilter';
const PRE_SCORE_KEY = 'InterPodAffinity/preScore';

const AFFINITY_MISMATCH: PluginStatus = {
  code: 'UnschedulableAndUnresolvable',
  reasons: [ERR_REASON_AFFINITY],
};
const ANTI_AFFINITY_MISMATCH: PluginStatus = { code: 'Unschedulable', reasons: [ERR_REASON_ANTI_AFFINITY] };
const EXISTING_ANTI_AFFINITY_MISMATCH: PluginStatus = {
  code: 'Unschedulable',
  reasons: [ERR_REASON_EXISTING_ANTI_AFFINITY],
};

/** topology key → topology value → count (or score). */
type TopologyCounts = Map<string, Map<string, number>>;

function addCount(counts: TopologyCounts, node: NodeInfo, key: string, delta: number): void {
  if (!Object.hasOwn(node.labels, key)) return;
  const value = node.labels[key];
  let byValue = counts.get(key);
  if (byValue === undefined) counts.set(key, (byValue = new Map()));
  byValue.set(value, (byValue.get(value) ?? 0) + delta);
}

function countAt(counts: TopologyCounts, key: string, value: string): number {
  return counts.get(key)?.get(value) ?? 0;
}

interface FilterState {
  pod: PodInfo;
  /** Domains where some existing pod's required anti-affinity matches the incoming pod. */
  existingAntiAffinity: TopologyCounts;
  /** Domains with pods matching all the incoming pod's required affinity terms. */
  affinity: TopologyCounts;
  /** Domains with pods matching one of the incoming pod's required anti-affinity terms. */
  antiAffinity: TopologyCounts;
}

export interface InterPodAffinityOptions {
  /** Namespace labels for namespaceSelector; without it only listed namespaces (and `{}`) match. */
  namespaceLabels?: NamespaceLabels;
  /** Score credit for an existing pod's required affinity term the incoming pod matches (upstream: 1). */
  hardPodAffinityWeight?: number;
  weight?: number;
}

/**
 * Filter: the incoming pod's required affinity (some pod matching every term in the node's
 * domain) and anti-affinity (none matching), and existing pods' required anti-affinity against
 * the incoming pod. Score: preferred terms both ways (and existing pods' required affinity),
 * summed per domain and scaled onto 0..100 between the lowest and highest node.
 */
export class InterPodAffinity implements FilterPlugin, ScorePlugin {
  readonly name = 'InterPodAffinity';
  readonly weight: number;
  private readonly namespaceLabels: NamespaceLabels | undefined;
  private readonly hardPodAffinityWeight: number;

  constructor(options: InterPodAffinityOptions = {}) {
    this.weight = options.weight ?? 2;
    this.namespaceLabels = options.namespaceLabels;
    this.hardPodAffinityWeight = options.hardPodAffinityWeight ?? 1;
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): typeof SKIP | undefined {
    const ns = this.namespaceLabels;
    const incoming = pod.pod;
    const existingAntiAffinity: TopologyCounts = new Map();
    for (const node of snapshot.nodesWithRequiredAntiAffinityPods) {
      for (const existing of node.podsWithRequiredAntiAffinity) {
        for (const term of existing.requiredAntiAffinityTerms) {
          if (termMatches(term, incoming, ns)) addCount(existingAntiAffinity, node, term.topologyKey, 1);
        }
      }
    }

    const affinityTerms = pod.requiredAffinityTerms;
    const antiAffinityTerms = pod.requiredAntiAffinityTerms;
    if (existingAntiAffinity.size === 0 && affinityTerms.length === 0 && antiAffinityTerms.length === 0)
      return SKIP;

    const affinity: TopologyCounts = new Map();
    const antiAffinity: TopologyCounts = new Map();
    if (affinityTerms.length > 0 || antiAffinityTerms.length > 0) {
      for (const node of snapshot.nodes) {
        for (const existing of node.pods) {
          if (affinityTerms.length > 0 && matchesAllTerms(affinityTerms, existing.pod, ns)) {
            for (const term of affinityTerms) addCount(affinity, node, term.topologyKey, 1);
          }
          for (const term of antiAffinityTerms) {
            if (termMatches(term, existing.pod, ns)) addCount(antiAffinity, node, term.topologyKey, 1);
          }
        }
      }
    }
    state.write(PRE_FILTER_KEY, { pod, existingAntiAffinity, affinity, antiAffinity } satisfies FilterState);
    return undefined;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    const s = state.read<FilterState>(PRE_FILTER_KEY);
    if (!this.satisfiesAffinity(s, node)) return AFFINITY_MISMATCH;
    if (!satisfiesAntiAffinity(s, node)) return ANTI_AFFINITY_MISMATCH;
    if (!satisfiesExistingAntiAffinity(s, node)) return EXISTING_ANTI_AFFINITY_MISMATCH;
    return undefined;
  }

  private satisfiesAffinity(s: FilterState, node: NodeInfo): boolean {
    const terms = s.pod.requiredAffinityTerms;
    let podsExist = true;
    for (const term of terms) {
      // Every topology label the terms name must be on the node.
      if (!Object.hasOwn(node.labels, term.topologyKey)) return false;
      if (countAt(s.affinity, term.topologyKey, node.labels[term.topologyKey]) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first of a group of pods with affinity to each other: no pod anywhere matches yet, so
    // it may go wherever its own labels would satisfy its terms.
    return s.affinity.size === 0 && matchesAllTerms(terms, s.pod.pod, this.namespaceLabels);
  }

  preScore(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    snapshot: Snapshot,
  ): typeof SKIP | undefined {
    if (nodes.length === 0) return undefined;
    const hasPreferences = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    // Without preferences of its own, only existing pods with (anti-)affinity can move the score.
    const candidates = hasPreferences ? snapshot.nodes : snapshot.nodesWithAffinityPods;
    const scores: TopologyCounts = new Map();
    for (const node of candidates) {
      if (!hasAnyLabel(node.labels)) continue;
      const pods = hasPreferences ? node.pods : node.podsWithAffinity;
      for (const existing of pods) this.scoreExistingPod(scores, pod, existing, node);
    }
    if (scores.size === 0) return SKIP;
    state.write(PRE_SCORE_KEY, scores);
    return undefined;
  }

  private scoreExistingPod(scores: TopologyCounts, pod: PodInfo, existing: PodInfo, node: NodeInfo): void {
    const ns = this.namespaceLabels;
    creditMatching(scores, node, pod.preferredAffinityTerms, existing.pod, 1, ns);
    creditMatching(scores, node, pod.preferredAntiAffinityTerms, existing.pod, -1, ns);
    if (this.hardPodAffinityWeight > 0) {
      for (const t of existing.requiredAffinityTerms) {
        if (termMatches(t, pod.pod, ns)) addCount(scores, node, t.topologyKey, this.hardPodAffinityWeight);
      }
    }
    creditMatching(scores, node, existing.preferredAffinityTerms, pod.pod, 1, ns);
    creditMatching(scores, node, existing.preferredAntiAffinityTerms, pod.pod, -1, ns);
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const scores = state.read<TopologyCounts>(PRE_SCORE_KEY);
    let total = 0;
    for (const [key, byValue] of scores) {
      if (Object.hasOwn(node.labels, key)) total += byValue.get(node.labels[key]) ?? 0;
    }
    return total;
  }

  normalize(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    if (!state.has(PRE_SCORE_KEY)) return;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const s of scores) {
      if (s.score > max) max = s.score;
      if (s.score < min) min = s.score;
    }
    const range = max - min;
    for (const s of scores) s.score = range > 0 ? Math.trunc(MAX_NODE_SCORE * ((s.score - min) / range)) : 0;
  }
}

/** Adds ±weight in the node's domain for each preferred term the target pod matches. */
function creditMatching(
  scores: TopologyCounts,
  node: NodeInfo,
  terms: readonly WeightedAffinityTerm[],
  target: KubeObject,
  sign: 1 | -1,
  ns: NamespaceLabels | undefined,
): void {
  for (const t of terms)
    if (termMatches(t, target, ns)) addCount(scores, node, t.topologyKey, sign * t.weight);
}

function satisfiesAntiAffinity(s: FilterState, node: NodeInfo): boolean {
  if (s.antiAffinity.size === 0) return true;
  for (const term of s.pod.requiredAntiAffinityTerms) {
    if (!Object.hasOwn(node.labels, term.topologyKey)) continue;
    if (countAt(s.antiAffinity, term.topologyKey, node.labels[term.topologyKey]) > 0) return false;
  }
  return true;
}

function satisfiesExistingAntiAffinity(s: FilterState, node: NodeInfo): boolean {
  if (s.existingAntiAffinity.size === 0) return true;
  for (const [key, byValue] of s.existingAntiAffinity) {
    if (Object.hasOwn(node.labels, key) && (byValue.get(node.labels[key]) ?? 0) > 0) return false;
  }
  return true;
}
