import { type ChildProcess, fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { childProfileFlags } from './cpu-profile.js';

/** Watchers in their own processes, so that reading them does not starve the bench's writer. */
export interface WatchWorkers {
  /** Lines of writes started before `epochMs` are counted from now on, not timed (a warm-up). */
  measureFrom(epochMs: number): Promise<void>;
  /** Lines delivered so far, over all workers. */
  count(): Promise<number>;
  /**
   * Stops the watches and returns how many lines arrived, every timed delivery latency (ms)
   * and, beside each, when its write started (epoch ms).
   */
  report(): Promise<{ received: number; samples: Float64Array; sentAt: Float64Array }>;
}

export async function startWatchWorkers(o: {
  url: string;
  caCert: string;
  token: string;
  path: string;
  watchers: number;
  processes: number;
  expectedPerWatcher: number;
  dir: string;
}): Promise<WatchWorkers> {
  const caFile = join(o.dir, 'ca.crt');
  await writeFile(caFile, o.caCert);
  const children: ChildProcess[] = [];
  for (let i = 0; i < o.processes; i++) {
    const count = Math.floor(o.watchers / o.processes) + (i < o.watchers % o.processes ? 1 : 0);
    const child = fork(
      resolve('bench/lib/watch-worker.ts'),
      [o.url, caFile, o.token, o.path, String(count), String(count * o.expectedPerWatcher)],
      {
        execArgv: ['--import', 'tsx', ...childProfileFlags('watch-worker')],
        serialization: 'advanced',
      },
    );
    children.push(child);
    await new Promise<void>((ready, fail) => {
      child.once('message', () => ready());
      child.once('exit', (code) => fail(new Error(`a watch worker exited (${code})`)));
    });
  }
  const ask = <T>(c: ChildProcess, message: string | object) =>
    new Promise<T>((done) => {
      c.once('message', (m) => done(m as T));
      c.send(message);
    });
  return {
    async measureFrom(epochMs) {
      await Promise.all(children.map((c) => ask(c, { measureFrom: epochMs })));
    },
    async count() {
      const counts = await Promise.all(children.map((c) => ask<{ count: number }>(c, 'count')));
      return counts.reduce((n, c) => n + c.count, 0);
    },
    async report() {
      type Part = { received: number; samples: Float64Array; sentAt: Float64Array };
      const parts = await Promise.all(children.map((c) => ask<Part>(c, 'report')));
      const join = (pick: (p: Part) => Float64Array) => {
        const all = new Float64Array(parts.reduce((n, p) => n + pick(p).length, 0));
        let at = 0;
        for (const p of parts) {
          all.set(pick(p), at);
          at += pick(p).length;
        }
        return all;
      };
      return {
        received: parts.reduce((n, p) => n + p.received, 0),
        samples: join((p) => p.samples),
        sentAt: join((p) => p.sentAt),
      };
    },
  };
}
