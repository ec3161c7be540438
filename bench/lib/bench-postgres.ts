import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PostgresServer } from '@app/dev-servers';

/** A throwaway Postgres for one benchmark run, durability on (fsync, synchronous_commit). */
export async function benchPostgres(): Promise<{
  server: PostgresServer;
  url: string;
  close(): Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'wake-bench-'));
  await chmod(root, 0o755);
  const server = await new PostgresServer({ dataDir: join(root, 'pg'), fsync: true }).start();
  return {
    server,
    url: server.url(),
    async close() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
