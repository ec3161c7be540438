import { describe, expect, it } from '@jest/globals';

import {
  assertWorkFilter,
  assertWorkSubject,
  progressIntervalMs,
  resolveWorkOptions,
  retryDelayMs,
  WORK_DEFAULTS,
  workConsumerConfig,
  workDurableName,
  workStreamConfig,
} from './jetstream-work.js';
import { isTerminalWorkError, TerminalWorkError } from './terminal-work-error.js';

const MS = 1_000_000;

describe('work stream and consumer definitions', () => {
  it('defines a file-backed work-queue stream over <root>.>', () => {
    const config = workStreamConfig(resolveWorkOptions().stream);
    expect(config).toMatchObject({
      name: 'WAKE_WORK',
      subjects: ['work.>'],
      retention: 'workqueue',
      storage: 'file',
      duplicate_window: 2 * 60_000 * MS,
    });
    expect(
      workStreamConfig(resolveWorkOptions({ stream: { name: 'T1', subjectRoot: 't1' } }).stream),
    ).toMatchObject({ name: 'T1', subjects: ['t1.>'] });
  });

  it('derives readable durable names that two patterns never share', () => {
    expect(workDurableName('work.gc')).toBe('work_gc');
    expect(workDurableName('work.reconcile-deployments', 'app-')).toBe('app-work_reconcile-deployments');
    const names = ['work.a_b', 'work.a.b', 'work.*', 'work.>', 'work.-', 'work.a-b'].map((p) =>
      workDurableName(p),
    );
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('gives each pattern an explicit-ack durable pull consumer filtered on the pattern', () => {
    const options = resolveWorkOptions({ consumer: { maxDeliver: 5, ackWaitMs: 2_000 } });
    expect(workConsumerConfig('work.gc', options)).toEqual({
      durable_name: 'work_gc',
      description: 'Wake work handler for work.gc',
      filter_subject: 'work.gc',
      ack_policy: 'explicit',
      deliver_policy: 'all',
      replay_policy: 'instant',
      ack_wait: 2_000 * MS,
      max_deliver: 5,
      max_ack_pending: WORK_DEFAULTS.consumer.maxAckPending,
    });
  });

  it('states the ack-timeout backoff, whose first value JetStream uses as ack_wait', () => {
    const options = resolveWorkOptions({ consumer: { ackTimeoutBackoffMs: [500, 5_000] } });
    expect(workConsumerConfig('work.gc', options)).toMatchObject({
      ack_wait: 500 * MS,
      backoff: [500 * MS, 5_000 * MS],
    });
    // Progress is reported well inside the shortest deadline.
    expect(progressIntervalMs(options.consumer)).toBe(166);
  });

  it('merges nested options over the defaults and refuses impossible ones', () => {
    const options = resolveWorkOptions({ consumer: { retry: { initialDelayMs: 10 } } });
    expect(options.consumer.retry).toEqual({ ...WORK_DEFAULTS.consumer.retry, initialDelayMs: 10 });
    expect(() => resolveWorkOptions({ consumer: { maxDeliver: 0 } })).toThrow(/maxDeliver/);
    expect(() => resolveWorkOptions({ consumer: { maxDeliver: 2, ackTimeoutBackoffMs: [1, 2] } })).toThrow(
      /fewer values/,
    );
    expect(() => resolveWorkOptions({ stream: { subjectRoot: 'a.b' } })).toThrow(/subjectRoot/);
    expect(() => resolveWorkOptions({ stream: { name: 'has space' } })).toThrow(/stream.name/);
    expect(() => resolveWorkOptions({ consumer: { retry: { multiplier: 0.5 } } })).toThrow(/retry/);
  });
});

describe('retry delays', () => {
  it('grow exponentially from the first failure, up to the cap', () => {
    const retry = { initialDelayMs: 100, multiplier: 2, maxDelayMs: 500 };
    expect([1, 2, 3, 4, 5, 10].map((n) => retryDelayMs(n, retry))).toEqual([100, 200, 400, 500, 500, 500]);
  });
});

describe('work subjects', () => {
  const stream = resolveWorkOptions().stream;

  it('accepts concrete subjects under the root for publishing', () => {
    expect(() => assertWorkSubject('work.gc', stream)).not.toThrow();
    expect(() => assertWorkSubject('work.reconcile.deployments', stream)).not.toThrow();
    for (const bad of ['work', 'work.', 'ev.pods', 'work.*', 'work.>', 'work..x', 'work.a b'])
      expect(() => assertWorkSubject(bad, stream)).toThrow(/not a work subject/);
  });

  it('accepts filters under the root for handler patterns', () => {
    for (const ok of ['work.gc', 'work.*', 'work.reconcile.>', 'work.*.x'])
      expect(() => assertWorkFilter(ok, stream)).not.toThrow();
    for (const bad of ['work', 'ev.>', 'work.>.x', 'work..x', '{"cmd":"x"}'])
      expect(() => assertWorkFilter(bad, stream)).toThrow(/not a work subject filter/);
  });
});

describe('TerminalWorkError', () => {
  it('is recognised, and is its own RPC error so that Nest passes it on unchanged', () => {
    const cause = new Error('root cause');
    const error = new TerminalWorkError('never going to work', { cause });
    expect(isTerminalWorkError(error)).toBe(true);
    expect(error.getError()).toBe(error);
    expect(error.message).toBe('never going to work');
    expect(error.name).toBe('TerminalWorkError');
    expect(error.cause).toBe(cause);
    expect(isTerminalWorkError(new Error('x'))).toBe(false);
    expect(isTerminalWorkError({ status: 'error', message: 'Internal server error' })).toBe(false);
  });

  it('is recognised when it comes from another copy of the module', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('wake.bus.TerminalWorkError')]: true });
    expect(isTerminalWorkError(foreign)).toBe(true);
  });
});
