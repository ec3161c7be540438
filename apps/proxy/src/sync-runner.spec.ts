import { describe, expect, it } from '@jest/globals';

import { SyncRunner } from './sync-runner.js';

describe('SyncRunner', () => {
  it('coalesces a burst into one sync, runs one more for triggers during a sync, and never two at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let syncs = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const runner = new SyncRunner(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        syncs++;
        await gate;
        running--;
      },
      {
        onError: (e) => {
          throw e;
        },
      },
    );
    runner.trigger();
    runner.trigger();
    await new Promise((r) => setTimeout(r, 10));
    expect(syncs).toBe(1);
    runner.trigger();
    runner.trigger();
    const first = release;
    gate = new Promise<void>((r) => (release = r));
    first();
    await new Promise((r) => setTimeout(r, 10));
    expect(syncs).toBe(2);
    release();
    await runner.stop();
    expect(maxRunning).toBe(1);
    runner.trigger();
    await new Promise((r) => setTimeout(r, 10));
    expect(syncs).toBe(2);
  });

  it('reports a failed sync and keeps going', async () => {
    const errors: string[] = [];
    let n = 0;
    const runner = new SyncRunner(
      async () => {
        if (n++ === 0) throw new Error('iptables-restore: exit 1');
      },
      { onError: (e) => errors.push(e.message) },
    );
    runner.trigger();
    await new Promise((r) => setTimeout(r, 10));
    runner.trigger();
    await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    expect(errors).toEqual(['iptables-restore: exit 1']);
    expect(n).toBe(2);
  });
});
