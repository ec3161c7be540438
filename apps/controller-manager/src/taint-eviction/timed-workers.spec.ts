import { describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';

import { TimedWorkerQueue } from './timed-workers.js';

// After pkg/controller/tainteviction/timed_workers_test.go (TestExecute, TestCancel, TestCancelAndReadd), with short real delays.
describe('TimedWorkerQueue', () => {
  it('runs each key once at its fire time; a key that ran is not added again until cancelled', async () => {
    const ran: string[] = [];
    const q = new TimedWorkerQueue(async (key) => {
      ran.push(key);
    });
    const now = Date.now();
    q.add('a', now, now, now);
    q.add('b', now, now + 30, now);
    q.add('a', now, now, now);
    await waitFor('both ran', () => (ran.length === 2 ? true : undefined));
    expect(ran).toEqual(['a', 'b']);
    q.add('a', now, now, now);
    expect(q.cancel('a')).toBe(false);
    q.add('a', Date.now(), Date.now(), Date.now());
    await waitFor('a ran again', () => (ran.length === 3 ? true : undefined));
    await q.stop();
  });

  it('cancels pending work, and says so', async () => {
    const ran: string[] = [];
    const q = new TimedWorkerQueue(async (key) => {
      ran.push(key);
    });
    const now = Date.now();
    q.add('a', now, now + 50, now);
    q.add('b', now, now + 50, now);
    expect(q.get('a')).toEqual({ createdAt: now, fireAt: now + 50 });
    expect(q.cancel('a')).toBe(true);
    expect(q.cancel('a')).toBe(false);
    await waitFor('b ran', () => (ran.length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 60));
    expect(ran).toEqual(['b']);
    await q.stop();
  });

  it('frees the key of work that failed, so it can be scheduled again', async () => {
    let calls = 0;
    const q = new TimedWorkerQueue(async () => {
      calls++;
      if (calls === 1) throw new Error('refused');
    });
    const now = Date.now();
    q.add('a', now, now, now);
    await waitFor('first try', () => (calls === 1 && !q.get('a') ? true : undefined));
    q.add('a', Date.now(), Date.now(), Date.now());
    await waitFor('second try', () => (calls === 2 ? true : undefined));
    await q.stop();
  });
});
