import { type NodeStatus, type PodSpec } from './api-types.js';
import { MutableNodeInfo } from './node-info.js';
import { podInfo } from './pod-info.js';
import { type ResourceList } from './resources.js';
import { NodeSnapshot } from './snapshot.js';
import {
  CycleState,
  type FilterPlugin,
  type KubeObject,
  type NodeScore,
  type PluginStatus,
  type PodInfo,
  type ScorePlugin,
  SKIP,
  type Taint,
} from './types.js';

/** Builders for the unit specs: plain objects shaped like what the informers deliver. */
export interface NodeOptions {
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  allocatable?: ResourceList;
  capacity?: ResourceList;
  images?: { names: string[]; sizeBytes: number }[];
}

export function makeNode(name: string, o: NodeOptions = {}): KubeObject {
  const status: NodeStatus = {};
  if (o.allocatable !== undefined || o.capacity === undefined) {
    status.allocatable = o.allocatable ?? { cpu: '4', memory: '32Gi', pods: '110' };
  }
  if (o.capacity !== undefined) status.capacity = o.capacity;
  if (o.images !== undefined) status.images = o.images;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: o.labels ?? { 'kubernetes.io/hostname': name } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status,
  };
}

export interface PodOptions extends PodSpec {
  namespace?: string;
  labels?: Record<string, string>;
  /** Requests of a single app container (ignored when `containers` is given). */
  requests?: ResourceList;
  deleting?: boolean;
}

export function makePod(name: string, o: PodOptions = {}): KubeObject {
  const { namespace, labels, requests, deleting, ...spec } = o;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: namespace ?? 'default',
      labels,
      ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [
        { name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: requests ?? {} } },
      ],
      ...spec,
    },
  };
}

/** A snapshot from nodes and the pods on each. */
export function snapshotOf(...entries: [KubeObject, KubeObject[]?][]): NodeSnapshot {
  return new NodeSnapshot(
    entries.map(([node, pods]) => new MutableNodeInfo(node, (pods ?? []).map(podInfo))),
  );
}

/** Runs a filter plugin as the framework would: PreFilter once, then Filter per node. */
export function runFilter(
  plugin: FilterPlugin,
  pod: KubeObject | PodInfo,
  snapshot: NodeSnapshot,
): Record<string, PluginStatus | undefined> & { preFilter?: unknown } {
  const p = 'metadata' in pod ? podInfo(pod) : pod;
  const state = new CycleState();
  const pre = plugin.preFilter?.(state, p, snapshot);
  const out: Record<string, PluginStatus | undefined> = {};
  for (const node of snapshot.nodes)
    out[node.name] = pre === SKIP ? undefined : plugin.filter(state, p, node);
  return out;
}

/** Reasons per node: [] for a node that fits. */
export function filterReasons(
  plugin: FilterPlugin,
  pod: KubeObject,
  snapshot: NodeSnapshot,
): Record<string, string[]> {
  const statuses = runFilter(plugin, pod, snapshot);
  return Object.fromEntries(snapshot.nodes.map((n) => [n.name, statuses[n.name]?.reasons ?? []]));
}

/**
 * Runs a score plugin as the framework would over the given nodes (all by default): PreScore,
 * Score per node, NormalizeScore. A skipped plugin scores every node 0. Unweighted.
 */
export function runScore(
  plugin: ScorePlugin,
  pod: KubeObject,
  snapshot: NodeSnapshot,
  nodeNames?: string[],
): Record<string, number> {
  const p = podInfo(pod);
  const nodes = nodeNames === undefined ? [...snapshot.nodes] : nodeNames.map((n) => snapshot.get(n)!);
  const state = new CycleState();
  const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
  if (plugin.preScore?.(state, p, nodes, snapshot) !== SKIP) {
    nodes.forEach((n, i) => (scores[i].score = plugin.score(state, p, n)));
    plugin.normalize?.(state, p, scores);
  }
  return Object.fromEntries(scores.map((s) => [s.name, s.score]));
}
