import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { postgresBinDir } from '@app/dev-servers';
import { splitSocket } from '@app/event-store';

import { summarize, type LatencySummary } from './stats.js';

const run = promisify(execFile);

export interface PgbenchResult {
  clients: number;
  tps: number;
  /** Per-transaction latency in ms, from pgbench's transaction log. */
  latency: LatencySummary;
}

/**
 * Runs pgbench with a custom script for `seconds` at `clients` connections and reads the
 * per-transaction log for percentiles (pgbench itself prints only the average).
 */
export async function pgbench(
  url: string,
  script: string,
  clients: number,
  seconds: number,
): Promise<PgbenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'wake-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    await writeFile(file, script);
    const u = new URL(url);
    const args = [
      '-n',
      '-h',
      // A Unix-socket directory (libpq's `?host=/dir`) wins over the URL's host, as in libpq.
      splitSocket(url).socketDir ?? u.hostname,
      '-p',
      u.port,
      '-U',
      u.username || 'postgres',
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(seconds),
      '-M',
      'prepared',
      '-f',
      file,
      '-l',
      '--log-prefix',
      join(dir, 'tx'),
      u.pathname.slice(1),
    ];
    const { stdout } = await run(join(postgresBinDir(), 'pgbench'), args, { maxBuffer: 16 * 1024 * 1024 });
    const tps = Number(/tps = ([0-9.]+)/.exec(stdout)?.[1]);
    const latencies: number[] = [];
    for (const name of await readdir(dir)) {
      if (!name.startsWith('tx')) continue;
      for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
        const cols = line.split(' ');
        if (cols.length > 3) latencies.push(Number(cols[2]) / 1000);
      }
    }
    return { clients, tps, latency: summarize(latencies) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
