import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

import {
  type Address,
  type ConnectionRateResult,
  measureConnectionRate,
  measureRoundTrips,
  measureThroughput,
  probeWho,
  roundRobin,
  type RoundTripResult,
  socketErrors,
  type ThroughputResult,
} from './tcp-measure.js';
import { whenReady } from './worker-process.js';

/**
 * Runs the TCP measurements from somewhere: this process (the host), or a process inside a pod
 * network namespace. Each measurement spreads its connections round robin over `to`.
 */
export interface MeasureClient {
  throughput(
    to: Address[],
    o: { connections: number; seconds: number; warmupSeconds: number },
  ): Promise<ThroughputResult>;
  roundTrips(
    to: Address[],
    o: { requests: number; seconds: number; size: number; newConnectionEach: boolean },
  ): Promise<RoundTripResult>;
  connectionRate(
    to: Address[],
    o: { concurrency: number; seconds: number; maxConnections: number },
  ): Promise<ConnectionRateResult>;
  /** Which backend answers one new connection to `to` (the propagation probe). */
  who(to: Address): Promise<string>;
  close(): Promise<void>;
}

export const hostClient: MeasureClient = {
  throughput: (to, o) => measureThroughput(roundRobin(to), o),
  roundTrips: (to, o) => measureRoundTrips(roundRobin(to), o),
  connectionRate: (to, o) => measureConnectionRate(roundRobin(to), o),
  who: (to) => probeWho(to),
  close: async () => undefined,
};

/** What the pod client worker is asked: one measurement. */
export type MeasureRequest =
  | { id: number; op: 'throughput'; to: Address[]; o: Parameters<MeasureClient['throughput']>[1] }
  | { id: number; op: 'roundTrips'; to: Address[]; o: Parameters<MeasureClient['roundTrips']>[1] }
  | { id: number; op: 'connectionRate'; to: Address[]; o: Parameters<MeasureClient['connectionRate']>[1] }
  | { id: number; op: 'who'; to: Address[] };
/** Omit per member of a union (Omit of the union itself keeps only the common keys). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type MeasureReply = {
  id: number;
  result?: unknown;
  error?: string;
  /** The worker's socket errors since its previous reply. */
  socketErrors: typeof socketErrors;
};

/** The measurements run by a node process inside network namespace `netns` (`ip netns exec`). */
export async function startNetnsClient(netns: string): Promise<MeasureClient> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      '--import',
      'tsx',
      resolve('bench/lib/measure-client-worker.ts'),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const { exited, stop } = await whenReady(`the client in netns ${netns}`, child);
  const pending = new Map<number, { done: (v: unknown) => void; fail: (e: Error) => void }>();
  child.on('message', (m: MeasureReply) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    socketErrors.count += m.socketErrors.count;
    socketErrors.first ??= m.socketErrors.first;
    if (m.error !== undefined) p?.fail(new Error(`in netns ${netns}: ${m.error}`));
    else p?.done(m.result);
  });
  void exited.then((code) => {
    for (const p of pending.values()) p.fail(new Error(`the client in netns ${netns} exited (${code})`));
    pending.clear();
  });
  let next = 0;
  const ask = <T>(request: WithoutId<MeasureRequest>): Promise<T> =>
    new Promise<T>((done, fail) => {
      const id = next++;
      pending.set(id, { done: done as (v: unknown) => void, fail });
      child.send({ ...request, id });
    });
  return {
    throughput: (to, o) => ask({ op: 'throughput', to, o }),
    roundTrips: (to, o) => ask({ op: 'roundTrips', to, o }),
    connectionRate: (to, o) => ask({ op: 'connectionRate', to, o }),
    who: (to) => ask({ op: 'who', to: [to] }),
    close: stop,
  };
}
