import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import { podsShouldBeOnNode, type PlacementContext } from './placement.js';
import { pod } from './test-objects.js';

const ctx = (o: Partial<PlacementContext> = {}): PlacementContext => ({
  eligibility: { shouldRun: true, shouldContinueRunning: true },
  allowsSurge: false,
  hash: 'new',
  minReadySeconds: 0,
  now: Date.parse('2024-02-01T00:00:00Z'),
  failedPodBackoff: () => 0,
  ...o,
});
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('podsShouldBeOnNode (daemon_controller.go)', () => {
  it('creates on an eligible node without a pod; nothing on one that has its pod', () => {
    expect(podsShouldBeOnNode([], ctx())).toMatchObject({ create: true, delete: [] });
    expect(podsShouldBeOnNode([pod('n')], ctx())).toMatchObject({ create: false, delete: [] });
    expect(
      podsShouldBeOnNode([], ctx({ eligibility: { shouldRun: false, shouldContinueRunning: true } })).create,
    ).toBe(false);
  });

  it('deletes every live pod from a node that must not keep them', () => {
    const pods = [pod('n', { name: 'a' }), pod('n', { name: 'b', deleting: true })];
    const plan = podsShouldBeOnNode(
      pods,
      ctx({ eligibility: { shouldRun: false, shouldContinueRunning: false } }),
    );
    expect(names(plan.delete)).toEqual(['a']);
  });

  it('keeps the oldest of excess pods (TestDealsWithExistingPods)', () => {
    const pods = [
      pod('n', { name: 'young', created: '2024-01-01T00:00:30Z' }),
      pod('n', { name: 'old', created: '2024-01-01T00:00:10Z' }),
      pod('n', { name: 'mid', created: '2024-01-01T00:00:20Z' }),
    ];
    expect(names(podsShouldBeOnNode(pods, ctx()).delete).sort()).toEqual(['mid', 'young']);
  });

  it('deletes a failed pod and reports it, unless its node is backing off; a succeeded one goes too', () => {
    const failed = pod('n', { name: 'f', phase: 'Failed' });
    const plan = podsShouldBeOnNode([failed], ctx());
    expect(names(plan.delete)).toEqual(['f']);
    expect(names(plan.failed)).toEqual(['f']);
    const waiting = podsShouldBeOnNode([failed], ctx({ failedPodBackoff: () => 2000 }));
    expect(waiting).toMatchObject({ delete: [], failed: [], retryAfterMs: 2000, create: false });
    expect(names(podsShouldBeOnNode([pod('n', { name: 's', phase: 'Succeeded' })], ctx()).delete)).toEqual([
      's',
    ]);
  });

  describe('with surge', () => {
    const surge = (o: Partial<PlacementContext> = {}) => ctx({ allowsSurge: true, ...o });
    it('creates when the only pod is being deleted', () => {
      expect(podsShouldBeOnNode([pod('n', { deleting: true })], surge()).create).toBe(true);
    });
    it('keeps an old ready pod beside a new one not yet available', () => {
      const pods = [
        pod('n', { name: 'old', hash: 'old' }),
        pod('n', { name: 'new', hash: 'new', ready: false }),
      ];
      expect(podsShouldBeOnNode(pods, surge()).delete).toEqual([]);
    });
    it('deletes the old pod once the new one is available, or once the old one is not ready', () => {
      const available = [pod('n', { name: 'old', hash: 'old' }), pod('n', { name: 'new', hash: 'new' })];
      expect(names(podsShouldBeOnNode(available, surge()).delete)).toEqual(['old']);
      const oldDown = [
        pod('n', { name: 'old', hash: 'old', ready: false }),
        pod('n', { name: 'new', hash: 'new', ready: false }),
      ];
      expect(names(podsShouldBeOnNode(oldDown, surge()).delete)).toEqual(['old']);
    });
    it('deletes all but the oldest new and oldest old pod', () => {
      const pods = [
        pod('n', { name: 'old1', hash: 'old', created: '2024-01-01T00:00:01Z' }),
        pod('n', { name: 'old2', hash: 'old', created: '2024-01-01T00:00:02Z' }),
        pod('n', { name: 'new1', hash: 'new', created: '2024-01-01T00:00:03Z', ready: false }),
        pod('n', { name: 'new2', hash: 'new', created: '2024-01-01T00:00:04Z' }),
      ];
      expect(names(podsShouldBeOnNode(pods, surge()).delete).sort()).toEqual(['new2', 'old2']);
    });
  });
});
