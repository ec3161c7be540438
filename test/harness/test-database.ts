import { randomBytes } from 'node:crypto';

import { createDatabase, dropDatabase } from '@app/dev-servers';

import { requireHarnessState } from './harness-state.js';

export interface TestDatabase {
  name: string;
  /** Superuser URL of the suite's own database. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database in the harness's Postgres, for one suite. */
export async function testDatabase(prefix = 'wake'): Promise<TestDatabase> {
  const { postgresUrl } = requireHarnessState();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const url = await createDatabase(postgresUrl, name);
  return { name, url, drop: () => dropDatabase(postgresUrl, name) };
}
