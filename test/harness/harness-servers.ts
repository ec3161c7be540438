import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { PostgresServer } from '@app/dev-servers';

import { HARNESS_STATE_ENV, type HarnessState } from './harness-state.js';

const running = globalThis as { __wakeHarnessPostgres?: PostgresServer };

/**
 * Starts one throwaway PostgreSQL for the whole integration run on a free loopback port.
 * Each suite then creates its own database in it (see `testDatabase()`), so suites never see
 * each other's rows. Nothing depends on a server the machine happens to run.
 */
export async function startHarnessServers(): Promise<HarnessState> {
  const pg = await PostgresServer.temporary('wake-test-');
  running.__wakeHarnessPostgres = pg;
  const state: HarnessState = { root: pg.dataDir, postgresUrl: pg.url(), postgresPid: pg.pid };
  await writeFile(join(pg.dataDir, 'harness.json'), JSON.stringify(state));
  process.env[HARNESS_STATE_ENV] = join(pg.dataDir, 'harness.json');
  return state;
}

/** Stops the servers; WAKE_TEST_KEEP=1 keeps their directory (logs, data) for a post-mortem. */
export async function stopHarnessServers(): Promise<void> {
  const pg = running.__wakeHarnessPostgres;
  if (process.env.WAKE_TEST_KEEP) await pg?.stop();
  else await pg?.destroy();
}
