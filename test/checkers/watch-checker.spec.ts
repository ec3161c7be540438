import { describe, expect, it } from '@jest/globals';

import { checkWatch, type WatchRecord } from './watch-checker.js';

const ev = (...seqs: number[]): WatchRecord[] => seqs.map((seq) => ({ kind: 'event', seq }));
const messages = (after: number, delivered: WatchRecord[], matching: number[]) =>
  checkWatch({ after, delivered, matching }).map((v) => v.message);

describe('checkWatch (etcd watch guarantees)', () => {
  const matching = [3, 5, 6, 9];

  it('accepts a watch that delivers every matching event after its start, in order, once', () => {
    expect(messages(4, ev(5, 6, 9), matching)).toEqual([]);
    expect(messages(0, [...ev(3, 5), { kind: 'bookmark', seq: 5 }, ...ev(6)], matching)).toEqual([]);
  });

  it('negative control, ordered: an event after a later one', () => {
    expect(messages(0, ev(3, 6, 5), matching)[0]).toMatch(/seq 5 delivered after seq 6/);
  });

  it('negative control, unique: an event twice', () => {
    expect(messages(0, ev(3, 3, 5), matching)[0]).toMatch(/seq 3 delivered after seq 3/);
  });

  it('negative control, reliable: a gap', () => {
    expect(messages(0, ev(3, 6, 9), matching)).toEqual(['missed 1 matching events, first 5']);
  });

  it('negative control, resumable: a watch that starts late', () => {
    expect(messages(4, ev(6, 9), matching)).toEqual([
      'missed 1 matching events, first 5',
      'first event 6, but the first matching event after 4 is 5',
    ]);
  });

  it('negative control, bookmarkable: an event at or below a bookmark, after it', () => {
    expect(messages(0, [...ev(3), { kind: 'bookmark', seq: 6 }, ...ev(5)], matching)[0]).toMatch(
      /seq 5 delivered after seq 6/,
    );
  });

  it('negative control, filter: an event the watch should not have seen', () => {
    expect(messages(0, ev(3, 4, 5), matching)).toContain('delivered 1 events that do not match, first 4');
  });
});
