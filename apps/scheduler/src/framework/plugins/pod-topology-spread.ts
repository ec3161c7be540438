import { type LabelSelector, matchesLabels } from '@app/api';

import { selectorWithPodLabels } from '../affinity-term.js';
import { podSpec, type TopologySpreadConstraintSpec } from '../api-types.js';
import { RequiredNodeAffinity } from '../node-selector.js';
import { firstUntoleratedTaint } from '../taints.js';
import {
  type CycleState,
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  SKIP,
  type ScorePlugin,
  type Snapshot,
  type Toleration,
} from '../types.js';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const HOSTNAME = 'kubernetes.io/hostname';
const PRE_FILTER_KEY = 'PodTopologySpread/preFilter';
const PRE_SCORE_KEY = 'PodTopologySpread/preScore';

const MISSING_LABEL: PluginStatus = {
  code: 'UnschedulableAndUnresolvable',
  reasons: [ERR_REASON_NODE_LABEL_NOT_MATCH],
};
const SKEWED: PluginStatus = { code: 'Unschedulable', reasons: [ERR_REASON_CONSTRAINTS_NOT_MATCH] };

/** One constraint as the plugin uses it (upstream's topologySpreadConstraint). */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  /** nodeAffinityPolicy Honor (default): only nodes the pod's nodeSelector/affinity allow count. */
  honorNodeAffinity: boolean;
  /** nodeTaintsPolicy Honor (default Ignore): only nodes whose taints the pod tolerates count. */
  honorNodeTaints: boolean;
}

/**
 * Upstream's system default constraints (defaultingType System), applied to ScheduleAnyway
 * scoring only, for pods that set no constraints but belong to a Service or workload.
 */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly { maxSkew: number; topologyKey: string }[] = [
  { maxSkew: 3, topologyKey: HOSTNAME },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone' },
];

export interface PodTopologySpreadOptions {
  /**
   * The selector upstream's DefaultSelector builds from the Services, ReplicaSets,
   * ReplicationControllers and StatefulSets selecting the pod; undefined or an empty selector
   * means no default spreading. Without it, the system default constraints are not applied.
   */
  defaultSelector?: (pod: PodInfo) => LabelSelector | undefined;
  weight?: number;
}

function constraintSelector(
  c: TopologySpreadConstraintSpec,
  podLabels: Record<string, string>,
): LabelSelector {
  return selectorWithPodLabels(c.labelSelector, podLabels, c.matchLabelKeys);
}

export function podConstraints(
  pod: PodInfo,
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway',
): SpreadConstraint[] {
  const labels = pod.pod.metadata.labels ?? {};
  const out: SpreadConstraint[] = [];
  for (const c of podSpec(pod.pod).topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== whenUnsatisfiable) continue;
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: constraintSelector(c, labels),
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

function hasAllTopologyKeys(node: NodeInfo, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!Object.hasOwn(node.labels, c.topologyKey)) return false;
  return true;
}

/** Pods on the node, in the pod's namespace and not terminating, that the selector matches. */
function countMatchingPods(node: NodeInfo, selector: LabelSelector, namespace: string): number {
  if (selector.matchNothing || selector.requirements.length === 0) return 0;
  let n = 0;
  for (const p of node.pods) {
    const meta = p.pod.metadata;
    if (meta.deletionTimestamp !== undefined || (meta.namespace ?? 'default') !== namespace) continue;
    if (matchesLabels(selector, meta.labels)) n++;
  }
  return n;
}

/** Node inclusion policies (nodeAffinityPolicy / nodeTaintsPolicy), decided once per node. */
class InclusionPolicy {
  private readonly affinity: RequiredNodeAffinity;
  private readonly tolerations: readonly Toleration[];

  constructor(pod: PodInfo) {
    const spec = podSpec(pod.pod);
    this.affinity = new RequiredNodeAffinity(spec);
    this.tolerations = spec.tolerations ?? [];
  }

  includes(c: SpreadConstraint, node: NodeInfo): boolean {
    if (c.honorNodeAffinity && !this.affinity.matches(node)) return false;
    if (c.honorNodeTaints && firstUntoleratedTaint(node.taints, this.tolerations) !== undefined) return false;
    return true;
  }
}

interface FilterState {
  constraints: SpreadConstraint[];
  /** Per constraint: topology value → matching pods in that domain. */
  counts: Map<string, number>[];
  /** Per constraint: the global minimum the skew is measured against. */
  minMatch: number[];
  /** Per constraint: 1 when the incoming pod matches its own selector. */
  selfMatch: number[];
}

interface ScoreState {
  constraints: SpreadConstraint[];
  ignored: Set<string>;
  /** Per constraint (non-hostname keys): topology value → matching pods. */
  counts: Map<string, number>[];
  weights: number[];
}

/**
 * Filter (DoNotSchedule constraints): placing the pod must not make any domain exceed the
 * global minimum by more than maxSkew. Score (ScheduleAnyway constraints, or the system
 * defaults): fewer matching pods in a node's domains is better.
 */
export class PodTopologySpread implements FilterPlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';
  readonly weight: number;
  private readonly defaultSelector: PodTopologySpreadOptions['defaultSelector'];

  constructor(options: PodTopologySpreadOptions = {}) {
    this.weight = options.weight ?? 2;
    this.defaultSelector = options.defaultSelector;
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): typeof SKIP | undefined {
    // The system defaults are ScheduleAnyway only, so they never reach the filter.
    const constraints = podConstraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return SKIP;
    const namespace = pod.pod.metadata.namespace ?? 'default';
    const policy = new InclusionPolicy(pod);
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of snapshot.nodes) {
      if (!hasAllTopologyKeys(node, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!policy.includes(c, node)) continue;
        const value = node.labels[c.topologyKey];
        counts[i].set(value, (counts[i].get(value) ?? 0) + countMatchingPods(node, c.selector, namespace));
      }
    }
    const minMatch = constraints.map((c, i) => {
      if (counts[i].size < c.minDomains) return 0;
      let min = Number.POSITIVE_INFINITY;
      for (const n of counts[i].values()) if (n < min) min = n;
      return min;
    });
    const podLabels = pod.pod.metadata.labels;
    const selfMatch = constraints.map((c) => (matchesLabels(c.selector, podLabels) ? 1 : 0));
    state.write(PRE_FILTER_KEY, { constraints, counts, minMatch, selfMatch } satisfies FilterState);
    return undefined;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    const s = state.read<FilterState>(PRE_FILTER_KEY);
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!Object.hasOwn(node.labels, c.topologyKey)) return MISSING_LABEL;
      const matching = s.counts[i].get(node.labels[c.topologyKey]) ?? 0;
      if (matching + s.selfMatch[i] - s.minMatch[i] > c.maxSkew) return SKEWED;
    }
    return undefined;
  }

  private scoringConstraints(pod: PodInfo): { constraints: SpreadConstraint[]; systemDefault: boolean } {
    if ((podSpec(pod.pod).topologySpreadConstraints ?? []).length > 0) {
      return { constraints: podConstraints(pod, 'ScheduleAnyway'), systemDefault: false };
    }
    const selector = this.defaultSelector?.(pod);
    if (selector === undefined || selector.matchNothing || selector.requirements.length === 0) {
      return { constraints: [], systemDefault: true };
    }
    const constraints = SYSTEM_DEFAULT_CONSTRAINTS.map((d) => ({
      ...d,
      selector,
      minDomains: 1,
      honorNodeAffinity: true,
      honorNodeTaints: false,
    }));
    return { constraints, systemDefault: true };
  }

  preScore(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    snapshot: Snapshot,
  ): typeof SKIP | undefined {
    if (nodes.length === 0 || snapshot.nodes.length === 0) return undefined;
    const { constraints, systemDefault } = this.scoringConstraints(pod);
    if (constraints.length === 0) return SKIP;
    // Only the pod's own constraints require every topology label: with the system defaults a
    // node without a zone label can still be spread over by hostname.
    const requireAll = !systemDefault;
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of nodes) {
      if (requireAll && !hasAllTopologyKeys(node, constraints)) {
        ignored.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const key = constraints[i].topologyKey;
        if (key !== HOSTNAME) counts[i].set(node.labels[key] ?? '', 0);
      }
    }
    const weights = constraints.map((c, i) =>
      Math.log((c.topologyKey === HOSTNAME ? nodes.length - ignored.size : counts[i].size) + 2),
    );

    const namespace = pod.pod.metadata.namespace ?? 'default';
    const policy = new InclusionPolicy(pod);
    for (const node of snapshot.nodes) {
      if (requireAll && !hasAllTopologyKeys(node, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (c.topologyKey === HOSTNAME) continue; // counted per node in score()
        const value = node.labels[c.topologyKey] ?? '';
        const current = counts[i].get(value);
        // Domains no candidate node is in do not matter.
        if (current === undefined || !policy.includes(c, node)) continue;
        counts[i].set(value, current + countMatchingPods(node, c.selector, namespace));
      }
    }
    state.write(PRE_SCORE_KEY, { constraints, ignored, counts, weights } satisfies ScoreState);
    return undefined;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const s = state.read<ScoreState>(PRE_SCORE_KEY);
    if (s.ignored.has(node.name)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!Object.hasOwn(node.labels, c.topologyKey)) continue;
      const count =
        c.topologyKey === HOSTNAME
          ? countMatchingPods(node, c.selector, pod.pod.metadata.namespace ?? 'default')
          : (s.counts[i].get(node.labels[c.topologyKey]) ?? 0);
      score += count * s.weights[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  /** Fewer matching pods is better: the lowest raw score maps to 100 (ignored nodes get 0). */
  normalize(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    if (!state.has(PRE_SCORE_KEY)) return;
    const { ignored } = state.read<ScoreState>(PRE_SCORE_KEY);
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const s of scores) {
      if (ignored.has(s.name)) continue;
      if (s.score < min) min = s.score;
      if (s.score > max) max = s.score;
    }
    for (const s of scores) {
      if (ignored.has(s.name)) s.score = 0;
      else if (max === 0) s.score = MAX_NODE_SCORE;
      else s.score = Math.trunc((MAX_NODE_SCORE * (max + min - s.score)) / max);
    }
  }
}
