import { connect as natsConnect } from '@nats-io/transport-node';

import { Relay } from '@app/bus';
import { connectPostgres, EVENT_STORE_DEFAULTS } from '@app/event-store';
import { componentRegistry, serveMetrics } from '@app/metrics';

import { createLogger } from '@app/logging';

export interface RelayCommandOptions {
  databaseUrl: string;
  natsUrl: string;
  /** The event stream's name (default WAKE_EVENTS). */
  stream?: string;
  /** Events the stream keeps (the hot tail). */
  maxMessages?: number;
  /** Copies of the stream JetStream keeps (3 on a three-server NATS cluster). */
  replicas?: number;
  /** See RelayOptions.readIntervalMs; absent: its default. */
  readIntervalMs?: number;
  /** Serve /healthz, /livez and /readyz on this loopback port (container healthchecks); absent: not served. */
  healthzPort?: number;
}

/** Exit code of a relay that halted on a broken invariant: its supervisor must not restart it. */
export const RELAY_HALTED_EXIT = 3;

/** What the relay prints on stdout once it is the active relay (`wake up` and the benches wait for it). */
export const RELAY_READY_LINE = 'relay active';

const log = createLogger('relay');

/**
 * Runs the relay in its own process until SIGTERM: its own event loop, so publishing never
 * competes with the API server's requests, and a crash (or kill -9) is survivable by design.
 * Waits to become the active relay if another holds the lock.
 */
export async function relay(o: RelayCommandOptions): Promise<number> {
  const sql = connectPostgres(o.databaseUrl, { max: 4, connection: { role: EVENT_STORE_DEFAULTS.appRole } });
  const nats = await natsConnect({ servers: o.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  // Up as soon as connected: a standby relay waiting on the lock is alive and where it should be.
  // The relay has no metrics of its own yet: /metrics carries the process metrics only.
  const health =
    o.healthzPort === undefined ? undefined : await serveMetrics(componentRegistry(), o.healthzPort);
  let halted = false;
  const r = new Relay({
    sql,
    nats,
    stream: {
      ...(o.stream ? { name: o.stream } : {}),
      ...(o.maxMessages ? { maxMessages: o.maxMessages } : {}),
      ...(o.replicas ? { replicas: o.replicas } : {}),
    },
    ...(o.readIntervalMs !== undefined ? { readIntervalMs: o.readIntervalMs } : {}),
    log: (message, fields) => log.info(fields ?? {}, message),
    onHalt: (e) => {
      halted = true;
      log.error({ error: e.message }, 'relay halted: the bus and the log disagree');
      process.kill(process.pid, 'SIGTERM');
    },
  });
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await Promise.race([r.start(), stopped]);
  log.info({ stream: o.stream ?? 'WAKE_EVENTS' }, 'relay active');
  // Tests and supervisors wait for this line.
  process.stdout.write(`${RELAY_READY_LINE}\n`);
  await stopped;
  await r.stop();
  await health?.close();
  await nats.close();
  await sql.end({ timeout: 5 });
  return halted ? RELAY_HALTED_EXIT : 0;
}
