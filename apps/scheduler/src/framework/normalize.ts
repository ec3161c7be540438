import { MAX_NODE_SCORE, type NodeScore } from './types.js';

/**
 * Upstream's DefaultNormalizeScore: scales scores so the highest becomes MAX_NODE_SCORE
 * (integer division, as Go's int64), optionally reversed so that fewer is better. With every
 * score 0, reversed gives everyone the maximum and plain leaves them at 0.
 */
export function defaultNormalizeScore(reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = MAX_NODE_SCORE;
    return;
  }
  for (const s of scores) {
    const scaled = Math.trunc((MAX_NODE_SCORE * s.score) / max);
    s.score = reverse ? MAX_NODE_SCORE - scaled : scaled;
  }
}
