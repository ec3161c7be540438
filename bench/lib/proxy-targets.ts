import { forkWorker, whenReady } from './worker-process.js';

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
  const worker = await whenReady<TargetPorts>(
    'the proxy bench targets',
    forkWorker('bench/lib/proxy-target-worker.ts', hosts),
  );
  return { ...worker.ready, hosts, pid: worker.pid, stop: worker.stop };
}
