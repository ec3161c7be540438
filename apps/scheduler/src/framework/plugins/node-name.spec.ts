import { describe, expect, it } from '@jest/globals';

import { filterReasons, makeNode, makePod, snapshotOf } from '../test-fixtures.js';
import { NodeName } from './node-name.js';

describe('NodeName', () => {
  const snapshot = snapshotOf([makeNode('a')], [makeNode('b')]);

  it('lets a pod without spec.nodeName onto any node', () => {
    expect(filterReasons(new NodeName(), makePod('p'), snapshot)).toEqual({ a: [], b: [] });
  });

  it('fits only the named node', () => {
    expect(filterReasons(new NodeName(), makePod('p', { nodeName: 'b' }), snapshot)).toEqual({
      a: ["node(s) didn't match the requested node name"],
      b: [],
    });
  });
});
