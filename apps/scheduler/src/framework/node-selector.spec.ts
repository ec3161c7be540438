import { describe, expect, it } from '@jest/globals';

import { RequiredNodeAffinity } from './node-selector.js';

describe('RequiredNodeAffinity on a bare node (name and labels, as the DaemonSet controller matches)', () => {
  it('ANDs nodeSelector with the ORed terms, matchFields on metadata.name included', () => {
    const affinity = new RequiredNodeAffinity({
      nodeSelector: { disk: 'ssd' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] },
              { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] },
            ],
          },
        },
      },
    });
    expect(affinity.matches({ name: 'a', labels: { disk: 'ssd' } })).toBe(true);
    expect(affinity.matches({ name: 'b', labels: { disk: 'ssd', zone: 'z1' } })).toBe(true);
    expect(affinity.matches({ name: 'b', labels: { disk: 'ssd' } })).toBe(false);
    expect(affinity.matches({ name: 'a', labels: {} })).toBe(false);
  });
});
