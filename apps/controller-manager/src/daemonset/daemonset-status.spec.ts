import { describe, expect, it } from '@jest/globals';

import { calculateCounts, statusUpToDate } from './daemonset-status.js';
import { ds, pod } from './test-objects.js';

const run = { shouldRun: true, shouldContinueRunning: true };
const skip = { shouldRun: false, shouldContinueRunning: false };

describe('updateDaemonSetStatus counts', () => {
  it('counts desired, current, misscheduled, ready, available, updated and unavailable by node', () => {
    const nodes = [
      { name: 'a', eligibility: run },
      { name: 'b', eligibility: run },
      { name: 'c', eligibility: run },
      { name: 'd', eligibility: skip },
      { name: 'e', eligibility: skip },
    ];
    const pods = new Map([
      ['a', [pod('a', { hash: 'h' })]],
      ['b', [pod('b', { hash: 'old', ready: false })]],
      ['d', [pod('d', { hash: 'h' })]],
    ]);
    const counts = calculateCounts(ds(), nodes, pods, 'h', undefined, Date.now());
    expect(counts).toEqual({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      numberReady: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
    });
  });

  it('judges a node by its oldest pod, and availability by minReadySeconds', () => {
    const young = pod('a', { hash: 'h', created: '2024-01-01T00:00:50Z' });
    const old = pod('a', { hash: 'old', created: '2024-01-01T00:00:10Z' });
    old.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:01:00Z' }];
    const now = Date.parse('2024-01-01T00:01:05Z');
    const counts = calculateCounts(
      ds({ minReadySeconds: 10 }),
      [{ name: 'a', eligibility: run }],
      new Map([['a', [young, old]]]),
      'h',
      undefined,
      now,
    );
    expect(counts).toMatchObject({
      numberReady: 1,
      numberAvailable: 0,
      updatedNumberScheduled: 0,
      numberUnavailable: 1,
    });
  });

  it('writes only when a count or the observed generation changed', () => {
    const counts = calculateCounts(ds(), [], new Map(), 'h', undefined, 0);
    const d = ds();
    d.status = { ...counts, observedGeneration: 1 };
    expect(statusUpToDate(d, counts, true)).toBe(true);
    d.metadata.generation = 2;
    expect(statusUpToDate(d, counts, true)).toBe(false);
    expect(statusUpToDate(d, counts, false)).toBe(true);
    expect(statusUpToDate(d, { ...counts, numberReady: 1 }, false)).toBe(false);
  });
});
