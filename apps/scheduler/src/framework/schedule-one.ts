import {
  CycleState,
  type FilterPlugin,
  type NodeInfo,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  type ScorePlugin,
  SKIP,
  type Snapshot,
} from './types.js';

/** The plugins one scheduler profile runs, in order. */
export interface Profile {
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
}

/** Upstream's constants for adaptive sampling (pkg/scheduler/schedule_one.go). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
const BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50;

/**
 * How many feasible nodes to look for before scoring: every node below 100 nodes, else
 * `percentage` of them (0 = adaptive: 50% − 1% per 125 nodes, at least 5%), never below 100.
 * Integer arithmetic as upstream's.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
      percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

/** Why the pod fits nowhere, as much as the filtering found out (upstream's Diagnosis). */
export interface Diagnosis {
  /** Every node that was filtered out, and the first plugin's reasons for it. */
  readonly statuses: ReadonlyMap<string, PluginStatus>;
  /** A PreFilter rejected the pod outright: no node was looked at. */
  readonly preFilterStatus?: PluginStatus;
  /** PreFilter narrowed the candidates by name: the status of every node left out. */
  readonly absentNodesStatus?: PluginStatus;
}

export interface FilterResult extends Diagnosis {
  readonly feasible: NodeInfo[];
  /** Where the next pod's scan starts, so that successive pods look at different nodes first. */
  readonly nextStartIndex: number;
}

interface PreFilterOutcome {
  /** Filter plugins whose PreFilter did not Skip. */
  filters: FilterPlugin[];
  nodeNames?: Set<string>;
  narrowedBy: string[];
  rejected?: PluginStatus;
}

function runPreFilters(
  profile: Profile,
  state: CycleState,
  pod: PodInfo,
  snapshot: Snapshot,
): PreFilterOutcome {
  const filters: FilterPlugin[] = [];
  let nodeNames: Set<string> | undefined;
  const narrowedBy: string[] = [];
  for (const plugin of profile.filters) {
    const r = plugin.preFilter?.(state, pod, snapshot);
    if (r === SKIP) continue;
    filters.push(plugin);
    if (r === undefined) continue;
    if ('code' in r) return { filters, narrowedBy, rejected: r };
    narrowedBy.push(plugin.name);
    nodeNames =
      nodeNames === undefined
        ? new Set(r.nodeNames)
        : new Set([...nodeNames].filter((n) => r.nodeNames.has(n)));
    if (nodeNames.size === 0) {
      const names = [...narrowedBy].sort();
      const reason =
        names.length === 1
          ? `node(s) didn't satisfy plugin ${names[0]}`
          : `node(s) didn't satisfy plugin(s) [${names.join(' ')}] simultaneously`;
      return { filters, narrowedBy, rejected: { code: 'Unschedulable', reasons: [reason] } };
    }
  }
  return { filters, nodeNames, narrowedBy };
}

/**
 * Runs PreFilter, then the filters over the nodes from `startIndex` on (wrapping around) until
 * `numFeasibleNodesToFind` nodes fit or every node was tried. A node stops at the first filter
 * that rejects it. Filters see nodes, never each other's results, so order only decides which
 * reason a node is reported with, as upstream's.
 */
export function findNodesThatFit(
  profile: Profile,
  state: CycleState,
  pod: PodInfo,
  snapshot: Snapshot,
  startIndex = 0,
  percentageOfNodesToScore = 0,
): FilterResult {
  const statuses = new Map<string, PluginStatus>();
  const pre = runPreFilters(profile, state, pod, snapshot);
  if (pre.rejected !== undefined) {
    return { feasible: [], statuses, preFilterStatus: pre.rejected, nextStartIndex: startIndex };
  }

  let nodes: readonly NodeInfo[] = snapshot.nodes;
  let absentNodesStatus: PluginStatus | undefined;
  if (pre.nodeNames !== undefined) {
    const subset: NodeInfo[] = [];
    for (const name of pre.nodeNames) {
      const node = snapshot.get(name);
      if (node !== undefined) subset.push(node);
    }
    nodes = subset;
    absentNodesStatus = {
      code: 'UnschedulableAndUnresolvable',
      reasons: [`node(s) didn't satisfy plugin(s) [${[...pre.narrowedBy].sort().join(' ')}]`],
    };
  }

  const total = nodes.length;
  const feasible: NodeInfo[] = [];
  if (total === 0) return { feasible, statuses, absentNodesStatus, nextStartIndex: startIndex };
  const wanted = numFeasibleNodesToFind(total, percentageOfNodesToScore);
  const filters = pre.filters;
  let processed = 0;
  for (; processed < total && feasible.length < wanted; processed++) {
    const node = nodes[(startIndex + processed) % total];
    let status: PluginStatus | undefined;
    for (let f = 0; f < filters.length && status === undefined; f++)
      status = filters[f].filter(state, pod, node);
    if (status === undefined) feasible.push(node);
    else statuses.set(node.name, status);
  }
  return { feasible, statuses, absentNodesStatus, nextStartIndex: (startIndex + processed) % total };
}

/**
 * Scores the feasible nodes: each plugin's PreScore (Skip leaves it out), Score per node, its
 * normalisation onto 0..100, times its weight, summed. With no score plugin every node scores 1.
 */
export function prioritizeNodes(
  profile: Profile,
  state: CycleState,
  pod: PodInfo,
  nodes: readonly NodeInfo[],
  snapshot: Snapshot,
): NodeScore[] {
  const totals: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
  const plugins: ScorePlugin[] = [];
  for (const plugin of profile.scores) {
    if (plugin.preScore?.(state, pod, nodes, snapshot) !== SKIP) plugins.push(plugin);
  }
  if (profile.scores.length === 0) {
    for (const t of totals) t.score = 1;
    return totals;
  }
  // One scratch list reused by every plugin: normalisation works in place on it.
  const scratch: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
  for (const plugin of plugins) {
    for (let i = 0; i < nodes.length; i++) scratch[i].score = plugin.score(state, pod, nodes[i]);
    plugin.normalize?.(state, pod, scratch);
    for (let i = 0; i < nodes.length; i++) totals[i].score += scratch[i].score * plugin.weight;
  }
  return totals;
}

/**
 * The node with the highest total; among equals each is equally likely (reservoir sampling,
 * as upstream's). `random` returns a number in [0, 1).
 */
export function selectHost(scores: readonly NodeScore[], random: () => number = Math.random): string {
  if (scores.length === 0) throw new Error('empty priorityList');
  let selected = scores[0].name;
  let max = scores[0].score;
  let ties = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i];
    if (s.score > max) {
      max = s.score;
      selected = s.name;
      ties = 1;
    } else if (s.score === max) {
      ties++;
      if (Math.floor(random() * ties) === 0) selected = s.name;
    }
  }
  return selected;
}

/** Upstream's ErrNoNodesAvailable message. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/**
 * Upstream's FitError message: `0/N nodes are available: ` and either the PreFilter's message
 * or a histogram of the nodes' reasons ("<count> <reason>", sorted as strings, joined by ", "),
 * then a full stop. Nodes PreFilter ruled out by name count under its absent-nodes reason.
 */
export function fitError(
  numAllNodes: number,
  statuses: ReadonlyMap<string, PluginStatus>,
  diagnosis: Omit<Diagnosis, 'statuses'> = {},
): string {
  let message = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterStatus !== undefined) {
    return `${message} ${diagnosis.preFilterStatus.reasons.join(', ')}.`;
  }
  const histogram = new Map<string, number>();
  for (const status of statuses.values()) {
    for (const reason of status.reasons) histogram.set(reason, (histogram.get(reason) ?? 0) + 1);
  }
  const absent = numAllNodes - statuses.size;
  if (absent > 0 && diagnosis.absentNodesStatus !== undefined) {
    for (const reason of diagnosis.absentNodesStatus.reasons)
      histogram.set(reason, (histogram.get(reason) ?? 0) + absent);
  }
  const entries = [...histogram].map(([reason, count]) => `${count} ${reason}`).sort();
  if (entries.length > 0) message += ` ${entries.join(', ')}.`;
  return message;
}

export type ScheduleResult =
  | { nodeName: string; evaluatedNodes: number; feasibleNodes: number; nextStartIndex: number }
  | { error: string; diagnosis: Diagnosis; nextStartIndex: number };

/**
 * One pod's scheduling decision over a snapshot (upstream's schedulePod): filter, and unless
 * exactly one node fits, score and pick. No node fitting yields the FitError message.
 */
export function schedulePod(
  profile: Profile,
  pod: PodInfo,
  snapshot: Snapshot,
  startIndex = 0,
  random: () => number = Math.random,
  percentageOfNodesToScore = 0,
): ScheduleResult {
  const numAllNodes = snapshot.nodes.length;
  if (numAllNodes === 0)
    return { error: NO_NODES_AVAILABLE, diagnosis: { statuses: new Map() }, nextStartIndex: 0 };
  const state = new CycleState();
  const result = findNodesThatFit(profile, state, pod, snapshot, startIndex, percentageOfNodesToScore);
  const evaluatedNodes = result.feasible.length + result.statuses.size;
  if (result.feasible.length === 0) {
    return {
      error: fitError(numAllNodes, result.statuses, result),
      diagnosis: result,
      nextStartIndex: result.nextStartIndex,
    };
  }
  if (result.feasible.length === 1) {
    return {
      nodeName: result.feasible[0].name,
      evaluatedNodes,
      feasibleNodes: 1,
      nextStartIndex: result.nextStartIndex,
    };
  }
  const scores = prioritizeNodes(profile, state, pod, result.feasible, snapshot);
  return {
    nodeName: selectHost(scores, random),
    evaluatedNodes,
    feasibleNodes: result.feasible.length,
    nextStartIndex: result.nextStartIndex,
  };
}
