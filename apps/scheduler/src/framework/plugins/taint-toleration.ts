import { podSpec } from '../api-types.js';
import { defaultNormalizeScore } from '../normalize.js';
import { firstUntoleratedTaint, toleratedBy } from '../taints.js';
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  type ScorePlugin,
  type Toleration,
} from '../types.js';

const PRE_SCORE_KEY = 'TaintToleration/preScore';

/**
 * Filter: a pod must tolerate every NoSchedule/NoExecute taint of the node. Score: the fewer
 * PreferNoSchedule taints a pod does not tolerate, the better (reversed normalisation).
 */
export class TaintToleration implements FilterPlugin, ScorePlugin {
  readonly name = 'TaintToleration';
  readonly weight: number;

  constructor(weight = 3) {
    this.weight = weight;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    if (node.taints.length === 0) return undefined;
    const taint = firstUntoleratedTaint(node.taints, podSpec(pod.pod).tolerations ?? []);
    if (taint === undefined) return undefined;
    return {
      code: 'UnschedulableAndUnresolvable',
      reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
    };
  }

  preScore(state: CycleState, pod: PodInfo): undefined {
    // Only tolerations that can apply to PreferNoSchedule taints matter for scoring.
    const tolerations = (podSpec(pod.pod).tolerations ?? []).filter(
      (t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule',
    );
    state.write(PRE_SCORE_KEY, tolerations);
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    if (node.taints.length === 0) return 0;
    const tolerations = state.read<Toleration[]>(PRE_SCORE_KEY);
    let intolerable = 0;
    for (const taint of node.taints) {
      if (taint.effect === 'PreferNoSchedule' && !toleratedBy(tolerations, taint)) intolerable++;
    }
    return intolerable;
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(true, scores);
  }
}
