import { podSpec } from '../api-types.js';
import { type CompiledTerm, compileTerm, RequiredNodeAffinity, nodeTermMatches } from '../node-selector.js';
import { defaultNormalizeScore } from '../normalize.js';
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  type PreFilterResult,
  SKIP,
  type ScorePlugin,
} from '../types.js';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const PRE_FILTER_KEY = 'NodeAffinity/preFilter';
const PRE_SCORE_KEY = 'NodeAffinity/preScore';

const MISMATCH: PluginStatus = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_POD] };

interface WeightedTerm {
  weight: number;
  term: CompiledTerm;
}

/**
 * The node names a pod's required terms pin it to through matchFields metadata.name In, or
 * undefined when some term leaves every node possible (terms are ORed, requirements ANDed).
 */
function pinnedNodeNames(pod: PodInfo): Set<string> | undefined {
  const terms =
    podSpec(pod.pod).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return undefined;
  const union = new Set<string>();
  for (const t of terms) {
    let names: Set<string> | undefined;
    for (const f of t.matchFields ?? []) {
      if (f.key !== 'metadata.name' || f.operator !== 'In') continue;
      const values = new Set(f.values ?? []);
      names = names === undefined ? values : new Set([...names].filter((n) => values.has(n)));
    }
    if (names === undefined) return undefined;
    for (const n of names) union.add(n);
  }
  return union;
}

/**
 * Filter: spec.nodeSelector and the required node affinity terms. Score: the summed weights of
 * the preferred terms a node matches, scaled so the best node gets 100.
 */
export class NodeAffinity implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeAffinity';
  readonly weight: number;

  constructor(weight = 2) {
    this.weight = weight;
  }

  preFilter(state: CycleState, pod: PodInfo): PluginStatus | PreFilterResult | typeof SKIP | undefined {
    const required = new RequiredNodeAffinity(podSpec(pod.pod));
    if (required.isEmpty) return SKIP;
    state.write(PRE_FILTER_KEY, required);
    const pinned = pinnedNodeNames(pod);
    if (pinned === undefined) return undefined;
    if (pinned.size === 0) return { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_CONFLICT] };
    return { nodeNames: pinned };
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    return state.read<RequiredNodeAffinity>(PRE_FILTER_KEY).matches(node) ? undefined : MISMATCH;
  }

  preScore(state: CycleState, pod: PodInfo): typeof SKIP | undefined {
    const preferred =
      podSpec(pod.pod).affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const terms: WeightedTerm[] = [];
    for (const p of preferred) {
      if (p.weight === 0) continue;
      const term = compileTerm(p.preference);
      if (term !== undefined) terms.push({ weight: p.weight, term });
    }
    if (terms.length === 0) return SKIP;
    state.write(PRE_SCORE_KEY, terms);
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    let total = 0;
    for (const t of state.read<WeightedTerm[]>(PRE_SCORE_KEY))
      if (nodeTermMatches(t.term, node)) total += t.weight;
    return total;
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(false, scores);
  }
}
