import { describe, expect, it } from '@jest/globals';

import { type NodeCondition } from './node-types.js';
import {
  computeZoneState,
  disruptionDecision,
  zoneEvictionRate,
  zoneKey,
  type ZoneState,
} from './zone-state.js';

const ready = (status: string): NodeCondition => ({ type: 'Ready', status });
const rates = { evictionRate: 0.1, secondaryEvictionRate: 0.01, largeClusterSizeThreshold: 50 };

// After TestComputeZoneState-style cases in node_lifecycle_controller_test.go (threshold 0.55).
describe('computeZoneState', () => {
  it('is Normal with every node ready, and with up to two not ready whatever the share', () => {
    expect(computeZoneState([ready('True'), ready('True')], 0.55)).toEqual({ notReady: 0, state: 'Normal' });
    expect(computeZoneState([ready('True'), ready('False'), ready('Unknown')], 0.55)).toEqual({
      notReady: 2,
      state: 'Normal',
    });
  });

  it('is PartialDisruption with more than two not ready at or above the threshold', () => {
    const conditions = [ready('True'), ready('True'), ready('False'), ready('Unknown'), ready('Unknown')];
    expect(computeZoneState(conditions, 0.55)).toEqual({ notReady: 3, state: 'PartialDisruption' });
    expect(computeZoneState([...conditions, ready('True')], 0.55)).toEqual({ notReady: 3, state: 'Normal' });
  });

  it('is FullDisruption when no node is ready; a node without a Ready condition counts as not ready', () => {
    expect(computeZoneState([ready('Unknown'), undefined], 0.55)).toEqual({
      notReady: 2,
      state: 'FullDisruption',
    });
  });
});

describe('zoneKey (GetZoneKey)', () => {
  const node = (labels: Record<string, string>) => ({ metadata: { name: 'n', labels } });
  it('joins region and zone, from the GA labels or the beta ones, and is empty without either', () => {
    expect(zoneKey(node({ 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' }))).toBe(
      'r:\x00:z',
    );
    expect(zoneKey(node({ 'failure-domain.beta.kubernetes.io/zone': 'z' }))).toBe(':\x00:z');
    expect(zoneKey(node({}))).toBe('');
  });
});

describe('zoneEvictionRate (setLimiterInZone)', () => {
  it('taints at the normal rate in Normal and FullDisruption zones', () => {
    expect(zoneEvictionRate('Normal', 10, rates)).toBe(0.1);
    expect(zoneEvictionRate('FullDisruption', 10, rates)).toBe(0.1);
  });
  it('slows to the secondary rate in a large partly disrupted zone, and stops in a small one', () => {
    expect(zoneEvictionRate('PartialDisruption', 51, rates)).toBe(0.01);
    expect(zoneEvictionRate('PartialDisruption', 50, rates)).toBe(0);
  });
});

describe('disruptionDecision (handleDisruption)', () => {
  const states = (o: Record<string, ZoneState>) => new Map(Object.entries(o));
  it('enters full disruption when every zone just became fully disrupted', () => {
    expect(
      disruptionDecision(
        states({ a: 'Normal', b: 'FullDisruption' }),
        states({ a: 'FullDisruption', b: 'FullDisruption' }),
      ),
    ).toEqual({ kind: 'enter-full-disruption' });
    expect(disruptionDecision(states({ a: 'Initial' }), states({ a: 'FullDisruption' }))).toEqual({
      kind: 'enter-full-disruption',
    });
  });
  it('exits when a zone comes back from a cluster-wide disruption', () => {
    expect(
      disruptionDecision(
        states({ a: 'FullDisruption', b: 'FullDisruption' }),
        states({ a: 'Normal', b: 'FullDisruption' }),
      ),
    ).toEqual({ kind: 'exit-full-disruption' });
  });
  it('does nothing while the whole cluster stays down', () => {
    expect(disruptionDecision(states({ a: 'FullDisruption' }), states({ a: 'FullDisruption' }))).toEqual({
      kind: 'none',
    });
  });
  it('otherwise changes the rate of the zones whose state changed, a lone fully disrupted zone included', () => {
    expect(
      disruptionDecision(
        states({ a: 'Normal', b: 'Normal', c: 'Initial' }),
        states({ a: 'Normal', b: 'FullDisruption', c: 'PartialDisruption' }),
      ),
    ).toEqual({ kind: 'per-zone', changed: ['b', 'c'] });
  });
});
