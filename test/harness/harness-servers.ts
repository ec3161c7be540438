import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { NatsServer, PostgresServer } from '@app/dev-servers';

import { stopHarnessDocker } from './docker.js';
import { HARNESS_STATE_ENV, type HarnessState } from './harness-state.js';

const running = globalThis as { __wakeHarnessPostgres?: PostgresServer; __wakeHarnessNats?: NatsServer };

/**
 * Starts one throwaway PostgreSQL and one JetStream nats-server for the whole integration run,
 * on free loopback ports. Each suite then creates its own database (see `testDatabase()`) and
 * its own stream names, so suites never see each other's data. Suites that kill or wipe NATS
 * start their own server. Nothing depends on a server the machine happens to run.
 */
export async function startHarnessServers(): Promise<HarnessState> {
  const [pg, nats] = await Promise.all([
    PostgresServer.temporary('wake-test-'),
    NatsServer.temporary('wake-test-nats-'),
  ]);
  running.__wakeHarnessPostgres = pg;
  running.__wakeHarnessNats = nats;
  const state: HarnessState = {
    root: pg.dataDir,
    postgresUrl: pg.url(),
    postgresPid: pg.pid,
    natsUrl: nats.url,
  };
  await writeFile(join(pg.dataDir, 'harness.json'), JSON.stringify(state));
  process.env[HARNESS_STATE_ENV] = join(pg.dataDir, 'harness.json');
  return state;
}

/** Stops the servers; WAKE_TEST_KEEP=1 keeps their directory (logs, data) for a post-mortem. */
export async function stopHarnessServers(): Promise<void> {
  const { __wakeHarnessPostgres: pg, __wakeHarnessNats: nats } = running;
  // Its pid file lives in the directory destroy() removes.
  if (pg) await stopHarnessDocker(pg.dataDir);
  if (process.env.WAKE_TEST_KEEP) await Promise.all([pg?.stop(), nats?.stop()]);
  else await Promise.all([pg?.destroy(), nats?.destroy()]);
}
