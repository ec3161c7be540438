import { fork } from 'node:child_process';
import { resolve } from 'node:path';

import { type Address } from './tcp-measure.js';

/** The reference pipe proxy in its own process (see pipe-proxy-worker.ts), on 127.0.0.1. */
export async function startPipeProxy(
  backends: Address[],
): Promise<{ at: Address; pid: number; stop(): Promise<void> }> {
  const child = fork(
    resolve('bench/lib/pipe-proxy-worker.ts'),
    backends.map((b) => `${b.host}:${b.port}`),
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const port = await new Promise<number>((ready, fail) => {
    child.once('message', (m) => ready(m as number));
    void exited.then((code) => fail(new Error(`the reference pipe proxy exited (${code}) before listening`)));
  });
  return {
    at: { host: '127.0.0.1', port },
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
