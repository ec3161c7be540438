import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PostgresServer } from '@app/dev-servers';

import { HARNESS_STATE_ENV, type HarnessState, readHarnessState } from './harness-state.js';

const running = globalThis as { __wakeHarnessPostgres?: PostgresServer };

/**
 * Starts one throwaway PostgreSQL for the whole integration run on a free loopback port.
 * Each suite then creates its own database in it (see `testDatabase()`), so suites never see
 * each other's rows. Nothing depends on a server the machine happens to run.
 */
export async function startHarnessServers(): Promise<HarnessState> {
  const root = await mkdtemp(join(tmpdir(), 'wake-test-'));
  // Postgres runs as its own user when we are root; it must be able to reach its directory.
  await chmod(root, 0o755);
  const pg = await new PostgresServer({ dataDir: join(root, 'pg') }).start();
  running.__wakeHarnessPostgres = pg;
  const state: HarnessState = {
    root,
    postgresUrl: pg.url(),
    postgresPid: pg.pid,
    postgresDataDir: pg.dataDir,
  };
  await writeFile(join(root, 'harness.json'), JSON.stringify(state));
  process.env[HARNESS_STATE_ENV] = join(root, 'harness.json');
  return state;
}

export async function stopHarnessServers(): Promise<void> {
  await running.__wakeHarnessPostgres?.stop();
  const state = readHarnessState();
  if (state && !process.env.WAKE_TEST_KEEP) await rm(state.root, { recursive: true, force: true });
}
