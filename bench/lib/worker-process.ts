import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';

/** A helper process of a bench with an IPC channel, once it has said it is ready. */
export interface WorkerProcess<T> {
  child: ChildProcess;
  pid: number;
  /** Its first IPC message: what it tells when ready (its ports, say). */
  ready: T;
  /** Resolves with its exit code (null when a signal ended it) once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits until it has exited. */
  stop(): Promise<void>;
}

/** Forks a bench/lib worker script under tsx, its output on ours. */
export function forkWorker(script: string, args: string[]): ChildProcess {
  return fork(resolve(script), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Waits for `child`'s first IPC message; fails if `child` (called `name`) exits before it. */
export async function whenReady<T>(name: string, child: ChildProcess): Promise<WorkerProcess<T>> {
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const ready = await new Promise<T>((done, fail) => {
    child.once('message', (m) => done(m as T));
    void exited.then((code) => fail(new Error(`${name} exited (${code}) before it was ready`)));
  });
  return {
    child,
    pid: child.pid as number,
    ready,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
