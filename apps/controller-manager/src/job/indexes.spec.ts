import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../replicaset/pod-types.js';
import {
  completionIndex,
  firstPendingIndexes,
  formatIndexes,
  parseIndexes,
  surplusIndexedPods,
  toIntervals,
  totalIndexes,
} from './indexes.js';

const pod = (name: string, index?: string): Pod => ({
  metadata: {
    name,
    ...(index === undefined ? {} : { annotations: { 'batch.kubernetes.io/job-completion-index': index } }),
  },
});

// Cases from upstream's indexed_job_utils_test.go (TestCalculateSucceededIndexes, TestFirstPendingIndexes...).
describe('Indexed Job indexes', () => {
  it('formats intervals as upstream: single indexes and ranges, merged', () => {
    expect(formatIndexes(toIntervals([0, 1, 2, 4, 7, 5]))).toBe('0-2,4-5,7');
    expect(formatIndexes(toIntervals([]))).toBe('');
    expect(formatIndexes(toIntervals([3]))).toBe('3');
  });

  it('parses completedIndexes, dropping what is at or past completions and what is malformed', () => {
    expect(parseIndexes('0-2,4,6-9', 8)).toEqual([
      [0, 2],
      [4, 4],
      [6, 7],
    ]);
    expect(parseIndexes('1,x,3-a,5', 10)).toEqual([
      [1, 1],
      [5, 5],
    ]);
    expect(totalIndexes(parseIndexes('0-2,4', 10))).toBe(4);
    expect(parseIndexes(undefined, 3)).toEqual([]);
  });

  it('reads the index from the annotation, else the label; invalid is none', () => {
    expect(completionIndex(pod('a', '3'))).toBe(3);
    expect(completionIndex(pod('a', '-1'))).toBeUndefined();
    expect(completionIndex(pod('a', 'x'))).toBeUndefined();
    expect(
      completionIndex({ metadata: { labels: { 'batch.kubernetes.io/job-completion-index': '2' } } }),
    ).toBe(2);
    expect(completionIndex(pod('a'))).toBeUndefined();
  });

  it('picks the lowest pending indexes, skipping succeeded and active ones', () => {
    expect(firstPendingIndexes(toIntervals([0, 2]), new Set([1, 4]), 3, 8)).toEqual([3, 5, 6]);
    expect(firstPendingIndexes([], new Set(), 5, 3)).toEqual([0, 1, 2]);
    expect(firstPendingIndexes(toIntervals([0, 1, 2]), new Set(), 2, 3)).toEqual([]);
  });

  it('marks duplicates, out-of-range, succeeded and unindexed active pods as surplus', () => {
    const pods = [pod('a', '0'), pod('b', '0'), pod('c', '5'), pod('d', '1'), pod('e'), pod('f', '2')];
    expect(surplusIndexedPods(pods, toIntervals([1]), 3).map((p) => p.metadata.name)).toEqual([
      'b',
      'c',
      'd',
      'e',
    ]);
  });
});
