import { type Node, type NodeCondition } from './node-types.js';

/** ZoneState (node_lifecycle_controller.go): how much of a zone is down. */
export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** Nodes with this label count for no zone's health (isNodeExcludedFromDisruptionChecks). */
export const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

/**
 * utilnode.GetZoneKey: region and zone from the topology labels (or their deprecated beta
 * forms), "" when the node has neither.
 */
export function zoneKey(node: Node): string {
  const labels = node.metadata.labels ?? {};
  const region =
    labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone =
    labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  if (!region && !zone) return '';
  return `${region}:\x00:${zone}`;
}

export function excludedFromDisruptionChecks(node: Node): boolean {
  return node.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL] !== undefined;
}

/**
 * ComputeZoneState: FullDisruption when no node is ready, PartialDisruption when more than
 * two are not and they are at least the unhealthy threshold of the zone, else Normal.
 */
export function computeZoneState(
  readyConditions: readonly (NodeCondition | undefined)[],
  unhealthyZoneThreshold: number,
): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) {
    if (c?.status === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold)
    return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

export interface EvictionRates {
  /** --node-eviction-rate (0.1 nodes/s). */
  evictionRate: number;
  /** --secondary-node-eviction-rate (0.01 nodes/s). */
  secondaryEvictionRate: number;
  /** --large-cluster-size-threshold (50). */
  largeClusterSizeThreshold: number;
}

/**
 * setLimiterInZone: the tainting rate for a zone in a state. Partial disruption slows to the
 * secondary rate (ReducedQPSFunc), and stops in zones no bigger than the large-cluster
 * threshold; a fully disrupted zone (while others are not) goes on at the normal rate
 * (HealthyQPSFunc).
 */
export function zoneEvictionRate(state: ZoneState, zoneSize: number, r: EvictionRates): number {
  if (state === 'PartialDisruption')
    return zoneSize > r.largeClusterSizeThreshold ? r.secondaryEvictionRate : 0;
  return r.evictionRate;
}

/** What handleDisruption does after a pass, given the zones' states before and now. */
export type DisruptionDecision =
  /** Every zone is now fully disrupted: untaint every node and stop tainting everywhere. */
  | { kind: 'enter-full-disruption' }
  /** Some zone has come back from a cluster-wide disruption: reset probe times and every zone's rate. */
  | { kind: 'exit-full-disruption' }
  /** Zones whose state changed get the rate for their new state. */
  | { kind: 'per-zone'; changed: string[] }
  /** The cluster was and still is fully disrupted: nothing changes. */
  | { kind: 'none' };

/**
 * handleDisruption's case analysis. `before` is the zone states known (zones without nodes
 * now already dropped, new ones as Initial); `now` the states computed this pass.
 */
export function disruptionDecision(
  before: ReadonlyMap<string, ZoneState>,
  now: ReadonlyMap<string, ZoneState>,
): DisruptionDecision {
  const allAre = [...now.values()].every((s) => s === 'FullDisruption');
  const allWere = [...before.values()].every((s) => s === 'FullDisruption');
  if (allAre && allWere) return { kind: 'none' };
  if (allAre) return { kind: 'enter-full-disruption' };
  if (allWere) return { kind: 'exit-full-disruption' };
  return { kind: 'per-zone', changed: [...before].filter(([k, s]) => now.get(k) !== s).map(([k]) => k) };
}
