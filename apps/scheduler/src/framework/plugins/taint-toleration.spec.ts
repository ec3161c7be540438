import { describe, expect, it } from '@jest/globals';

import { filterReasons, makeNode, makePod, runScore, snapshotOf } from '../test-fixtures.js';
import { type Taint } from '../types.js';
import { TaintToleration } from './taint-toleration.js';

const taint = (key: string, value: string, effect: string): Taint => ({ key, value, effect });

describe('TaintToleration filter', () => {
  const plugin = new TaintToleration();
  const snapshot = snapshotOf(
    [makeNode('plain')],
    [makeNode('dedicated', { taints: [taint('dedicated', 'user1', 'NoSchedule')] })],
    [makeNode('soft', { taints: [taint('foo', 'bar', 'PreferNoSchedule')] })],
    [makeNode('evict', { taints: [taint('ok', 'x', 'NoSchedule'), taint('gone', '', 'NoExecute')] })],
  );

  it('rejects nodes with a NoSchedule/NoExecute taint the pod does not tolerate, naming the taint', () => {
    expect(filterReasons(plugin, makePod('p'), snapshot)).toEqual({
      plain: [],
      dedicated: ['node(s) had untolerated taint {dedicated: user1}'],
      soft: [], // PreferNoSchedule only affects scoring
      evict: ['node(s) had untolerated taint {ok: x}'],
    });
  });

  it('matches tolerations as upstream: Equal compares values, Exists does not, empty effect matches all', () => {
    const equal = makePod('p', {
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'user1', effect: 'NoSchedule' },
        { key: 'ok', value: 'x' },
      ],
    });
    expect(filterReasons(plugin, equal, snapshot)).toMatchObject({
      dedicated: [],
      evict: ['node(s) had untolerated taint {gone: }'],
    });
    const wrongValue = makePod('q', {
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2' }],
    });
    expect(filterReasons(plugin, wrongValue, snapshot).dedicated).toEqual([
      'node(s) had untolerated taint {dedicated: user1}',
    ]);
    const exists = makePod('r', {
      tolerations: [
        { key: 'dedicated', operator: 'Exists' },
        { operator: 'Exists', effect: 'NoExecute' },
        { key: 'ok', operator: 'Exists' },
      ],
    });
    expect(filterReasons(plugin, exists, snapshot)).toEqual({
      plain: [],
      dedicated: [],
      soft: [],
      evict: [],
    });
  });
});

describe('TaintToleration score', () => {
  it('scores nodes by intolerable PreferNoSchedule taints, fewer is better (reversed normalisation)', () => {
    const snapshot = snapshotOf(
      [makeNode('none')],
      [
        makeNode('one', {
          taints: [taint('cpu-type', 'arm64', 'PreferNoSchedule'), taint('foo', 'bar', 'PreferNoSchedule')],
        }),
      ],
      [
        makeNode('two', {
          taints: [
            taint('cpu-type', 'arm64', 'PreferNoSchedule'),
            taint('disk-type', 'ssd', 'PreferNoSchedule'),
          ],
        }),
      ],
      [makeNode('hard', { taints: [taint('x', 'y', 'NoSchedule')] })],
    );
    const pod = makePod('p', {
      tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }],
    });
    expect(runScore(new TaintToleration(), pod, snapshot)).toEqual({ none: 100, one: 50, two: 0, hard: 100 });
  });

  it('gives every node the maximum when no node has an intolerable taint', () => {
    const snapshot = snapshotOf(
      [makeNode('a')],
      [makeNode('b', { taints: [taint('foo', 'bar', 'PreferNoSchedule')] })],
    );
    const pod = makePod('p', { tolerations: [{ key: 'foo', operator: 'Exists' }] });
    expect(runScore(new TaintToleration(), pod, snapshot)).toEqual({ a: 100, b: 100 });
  });

  it('ignores tolerations for other effects when scoring', () => {
    const snapshot = snapshotOf(
      [makeNode('a')],
      [makeNode('b', { taints: [taint('foo', 'bar', 'PreferNoSchedule')] })],
    );
    const pod = makePod('p', { tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(runScore(new TaintToleration(), pod, snapshot)).toEqual({ a: 100, b: 0 });
  });
});
