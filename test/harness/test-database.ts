import { randomBytes } from 'node:crypto';

import postgres from 'postgres';

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
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
