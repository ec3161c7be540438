import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createDatabase, NatsServer, PostgresServer } from '@app/dev-servers';

import { type ApiServerProcess, startApiServerProcess } from './api-server-process.js';
import { type RelayProcess, startRelayProcess } from './relay-process.js';

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * What every control-plane bench starts first, each in its own process as `wake up` runs them:
 * Postgres (fsync on) with a `bench` database, nats-server, 'wake apiserver' and 'wake relay'.
 */
export interface ControlPlane {
  pg: PostgresServer;
  nats: NatsServer;
  api: ApiServerProcess;
  relay: RelayProcess;
  /** The log's database, as the API server and the relay reach it (a bench may append to it itself). */
  databaseUrl: string;
  /** This run's temporary directory: the API server's PKI and kubeconfig, and the bench's own files. */
  dir: string;
  /** A component the bench starts on top (scheduler, agent, proxy, a cleanup); stop() stops it first. */
  add<T extends Stoppable>(starting: T | Promise<T>): Promise<T>;
  /** Every component, last started first, then the stores; their temporary directories removed. */
  stop(): Promise<void>;
}

export async function startControlPlane(
  /** Names the temporary directories (wake-bench-<name>-…). */
  name: string,
  o: {
    /** The API server and relay reach Postgres over loopback TCP instead of its Unix socket. */
    databaseOverTcp?: boolean;
  } = {},
): Promise<ControlPlane> {
  const pg = await PostgresServer.temporary(`wake-bench-${name}-`, { fsync: true });
  const started: Stoppable[] = [{ stop: () => pg.destroy() }];
  const stop = async () => {
    const errors: unknown[] = [];
    // In reverse: a proxy removes its rules and an agent its containers while the API is up.
    for (const c of started.splice(0).reverse()) await c.stop().catch((e: unknown) => errors.push(e));
    if (errors.length === 1) throw errors[0];
    if (errors.length) throw new AggregateError(errors, 'stopping the bench control plane');
  };
  try {
    const nats = await NatsServer.temporary(`wake-bench-${name}-nats-`);
    started.push({ stop: () => nats.destroy() });
    const dir = await mkdtemp(join(tmpdir(), `wake-bench-${name}-`));
    started.push({ stop: () => rm(dir, { recursive: true, force: true }) });
    await createDatabase(pg.url(), 'bench');
    // A local install reaches Postgres over its Unix socket, cheaper per query than TCP.
    const url = o.databaseOverTcp ? pg.url('bench') : pg.socketUrl('bench');
    const api = await startApiServerProcess(url, nats.url, dir);
    started.push(api);
    const relay = await startRelayProcess(url, nats.url, { name: 'WAKE_EVENTS', maxMessages: 1_000_000 });
    started.push(relay);
    const add = async <T extends Stoppable>(starting: T | Promise<T>) => {
      const c = await starting;
      started.push(c);
      return c;
    };
    return { pg, nats, api, relay, databaseUrl: url, dir, add, stop };
  } catch (e) {
    await stop().catch((stopError: unknown) => {
      throw new AggregateError(
        [e, stopError],
        'starting the bench control plane failed, and so did stopping it',
      );
    });
    throw e;
  }
}
