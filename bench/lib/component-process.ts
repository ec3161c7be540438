import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { nodeFlagsFor } from '../../apps/cli/src/component-node-flags.js';
import { childProfileFlags } from './cpu-profile.js';

/** A `wake <command>` process the benches start, as `wake up` runs its components. */
export interface ComponentProcess {
  pid: number;
  /** What it printed on stdout until it was ready (a URL, say). */
  readyOutput: string;
  /** Resolves with its exit code (null when a signal ended it) once it has exited. */
  exited: Promise<number | null>;
  /** The last few KB it wrote to stdout and to stderr since it was ready, for a failing test's message. */
  outputTail(): { stdout: string; stderr: string };
  stop(): Promise<void>;
  /** kill -9: no shutdown hooks run (a crash, as chaos tests need); resolves once it is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `wake <args>` from source and waits until its stdout has a whole line holding
 * `readyLine` (the component's exported READY_LINE constant, as `wake up` waits for it).
 * WAKE_BENCH_PROFILE_DIR: each component writes a V8 CPU profile there when it stops.
 * WAKE_BENCH_NODE_FLAGS: more flags for node, space-separated (say `--trace-gc`), for every
 * component. WAKE_BENCH_OUTPUT_DIR: each component's whole stdout and stderr go to
 * `<dir>/<name>.log` as well (otherwise only a tail is kept), to read such traces beside the
 * bench's timeline.
 */
export async function startComponent(
  name: string,
  args: string[],
  readyLine: string,
  /** Flags for node itself, e.g. --expose-gc. */
  nodeArgs: string[] = [],
): Promise<ComponentProcess> {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      // As `wake up` starts the component.
      ...nodeFlagsFor(args[0]),
      // Last, so that they win over the flags above (V8 takes a flag's last value).
      ...(process.env.WAKE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      ...childProfileFlags(args[0]),
      resolve('apps/cli/src/main.ts'),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const outputDir = process.env.WAKE_BENCH_OUTPUT_DIR;
  if (outputDir) {
    // Written at once: the bench exits right after its components, and a stream's queued
    // writes would be lost with it.
    const log = join(outputDir, `${name.replace(/\W+/g, '-')}.log`);
    const keep = (d: Buffer) => appendFileSync(log, d);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const readyOutput = await new Promise<string>((resolveReady, reject) => {
    let out = '';
    const untilReady = (d: Buffer) => {
      out += d.toString();
      // The whole line: what follows the ready words (a URL, a count) is part of readyOutput.
      const at = out.indexOf(readyLine);
      if (at < 0 || !out.includes('\n', at)) return;
      // Ready: from here on only a tail of its output is kept (a chatty component must not grow the bench).
      child.stdout.off('data', untilReady);
      child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4000)));
      resolveReady(out);
    };
    child.stdout.on('data', untilReady);
    void exited.then((code) => reject(new Error(`the ${name} exited (${code}): ${stderr}`)));
  });
  return {
    pid: child.pid as number,
    readyOutput,
    exited,
    outputTail: () => ({ stdout, stderr }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
