import { type Sql } from 'postgres';

import { MIGRATIONS, type Migration, type MigrationContext } from './migrations.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Applies pending migrations in one transaction per migration, serialised across processes by
 * an advisory lock so that several API servers starting at once do not race.
 */
export class Migrator {
  constructor(
    private readonly sql: Sql,
    private readonly ctx: MigrationContext,
    private readonly migrations: Migration[] = MIGRATIONS,
  ) {
    for (const id of [ctx.schema, ctx.appRole]) {
      if (!IDENTIFIER.test(id)) throw new Error(`invalid SQL identifier in event-store options: ${id}`);
    }
  }

  /** Returns the versions it applied. */
  async migrate(): Promise<number[]> {
    const s = this.ctx.schema;
    return this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`wake.migrate.${s}`}))`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await tx.unsafe(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const rows = await tx.unsafe<{ version: number }[]>(`SELECT version FROM ${s}.schema_migrations`);
      const done = new Set(rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of [...this.migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await tx.unsafe(m.sql(this.ctx));
        await tx.unsafe(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
          m.version,
          m.name,
        ]);
        applied.push(m.version);
      }
      return applied;
    });
  }
}
