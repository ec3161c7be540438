import { fork } from 'node:child_process';
import { resolve } from 'node:path';

/** The port numbers every target address listens on (see proxy-target-worker.ts). */
export interface TargetPorts {
  bulk: number;
  echo: number;
  who: number;
}

export interface Targets extends TargetPorts {
  hosts: string[];
  pid: number;
  stop(): Promise<void>;
}

/** Forks the backends' process listening on `hosts` (loopback addresses) and waits until they listen. */
export async function startTargets(hosts: string[]): Promise<Targets> {
  const child = fork(resolve('bench/lib/proxy-target-worker.ts'), hosts, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const ports = await new Promise<TargetPorts>((ready, fail) => {
    child.once('message', (m) => ready(m as TargetPorts));
    void exited.then((code) => fail(new Error(`the proxy bench targets exited (${code}) before listening`)));
  });
  return {
    ...ports,
    hosts,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
