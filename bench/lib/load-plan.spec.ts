import { describe, expect, it } from '@jest/globals';

import { planLoad, scaledReplicas, seededRandom } from './load-plan.js';

describe('planLoad', () => {
  it('puts 30 pods a node in one namespace of 3 big, 25 medium and 300 small Deployments at 100 nodes', () => {
    const plan = planLoad(100);
    expect(plan.namespaces).toEqual(['load-1']);
    const count = (size: string) => plan.deployments.filter((d) => d.size === size).length;
    expect([count('big'), count('medium'), count('small')]).toEqual([3, 25, 300]);
    expect(plan.pods).toBe(3000);
    // One Service per two Deployments of a size, rounded up: 2 + 13 + 150.
    expect(plan.services).toHaveLength(165);
    expect(plan.deployments.find((d) => d.name === 'big-deployment-2')?.service).toBe('big-service-1');
  });

  it('has one namespace per 100 nodes: 10 at 1,000 nodes, 30,000 pods', () => {
    const plan = planLoad(1000);
    expect(plan.namespaces).toHaveLength(10);
    expect(plan.pods).toBe(30_000);
    expect(new Set(plan.deployments.map((d) => `${d.namespace}/${d.name}`)).size).toBe(3280);
  });

  it('scales a small cluster into one namespace with its 30 pods a node', () => {
    const plan = planLoad(10);
    expect(plan.namespaces).toHaveLength(1);
    // 300 pods: no big Deployment fits (300 / 1000), 2 medium, 30 small.
    expect(plan.pods).toBe(2 * 30 + 30 * 5);
  });
});

describe('scaledReplicas', () => {
  it('draws sizes in [x/2, 3x/2], reproducibly from a seed, reaching both ends', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 2000 }, () => scaledReplicas(5, random));
    };
    const sizes = draw(42);
    expect(Math.min(...sizes)).toBe(2);
    expect(Math.max(...sizes)).toBe(8);
    expect(draw(42)).toEqual(sizes);
    expect(draw(43)).not.toEqual(sizes);
  });
});
