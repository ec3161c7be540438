import { describe, expect, it } from '@jest/globals';

import { type LogEntry, type RecordedOp } from './history.js';
import {
  checkAckedDurability,
  checkCasChains,
  checkGapless,
  checkNoPhantoms,
  checkTail,
} from './log-checkers.js';

// Each checker is shown to pass a good history and to fail the broken one it exists to catch.
const log: LogEntry[] = [
  { seq: 1, key: 'a', type: 'ADDED' },
  { seq: 2, key: 'a', type: 'MODIFIED' },
  { seq: 3, key: 'b', type: 'ADDED' },
  { seq: 4, key: 'a', type: 'MODIFIED' },
  { seq: 5, key: 'a', type: 'DELETED' },
];
const history: RecordedOp[] = [
  { kind: 'create', key: 'a', outcome: { ok: true, rv: 1, appended: true } },
  { kind: 'update', key: 'a', precondition: 1, outcome: { ok: true, rv: 2, appended: true } },
  { kind: 'update', key: 'a', precondition: 1, outcome: { ok: false, reason: 'Conflict' } },
  { kind: 'create', key: 'b', outcome: { ok: true, rv: 3, appended: true } },
  { kind: 'update', key: 'a', precondition: 2, outcome: { ok: true, rv: 4, appended: true } },
  { kind: 'delete', key: 'a', precondition: 4, outcome: { ok: true, rv: 5, appended: true } },
];

describe('log checkers', () => {
  it('accept a correct history', () => {
    expect(checkGapless([1, 2, 3, 4, 5], 5)).toEqual([]);
    expect(checkTail([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])).toEqual([]);
    expect(checkAckedDurability(history, log)).toEqual([]);
    expect(checkNoPhantoms(history, log)).toEqual([]);
    expect(checkCasChains(history, log)).toEqual([]);
  });

  it('gapless: catches a hole and a short log', () => {
    expect(checkGapless([1, 2, 4, 5], 5)).toHaveLength(2);
    expect(checkGapless([1, 2, 3], 5)[0].message).toMatch(/head says 5/);
  });

  it('tail: catches a skipped event, a duplicate and a reordering', () => {
    expect(checkTail([1, 2, 4, 5], [1, 2, 3, 4, 5])[0].message).toMatch(/never saw 1 .* first 3/);
    expect(checkTail([1, 2, 2, 3], [1, 2, 3])[0].message).toMatch(/2 delivered after 2/);
    expect(checkTail([1, 3, 2], [1, 2, 3])[0].message).toMatch(/2 delivered after 3/);
  });

  it('durability: catches an acknowledged write missing from the log', () => {
    expect(
      checkAckedDurability(
        history,
        log.filter((e) => e.seq !== 4),
      )[0].message,
    ).toMatch(/update of a at rv 4/);
  });

  it('phantoms: catches an event nobody was told about', () => {
    expect(checkNoPhantoms(history, [...log, { seq: 6, key: 'c', type: 'ADDED' }])[0].message).toMatch(
      /first seq 6/,
    );
    expect(checkNoPhantoms(history, [...log, { seq: 6, key: 'c', type: 'ADDED' }], 1)).toEqual([]);
  });

  it('cas: catches a lost update (two successes from one precondition)', () => {
    const lost: RecordedOp[] = [
      ...history.slice(0, 2),
      { kind: 'update', key: 'a', precondition: 1, outcome: { ok: true, rv: 4, appended: true } },
    ];
    const messages = checkCasChains(lost, log.slice(0, 4)).map((v) => v.message);
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/two writes succeeded from rv 1/)]),
    );
  });
});
