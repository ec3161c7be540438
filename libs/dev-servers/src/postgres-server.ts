import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

import { freePort } from './free-port.js';
import { ManagedProcess, userIds } from './managed-process.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface PostgresServerOptions {
  /** Cluster directory; created (initdb) when missing. */
  dataDir: string;
  port?: number;
  /**
   * Durability stays on by default: tests and benchmarks measure the real commit path.
   * Only a throwaway test cluster that measures nothing may turn it off.
   */
  fsync?: boolean;
  maxConnections?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  onUnexpectedExit?: (code: number | null) => void;
}

/** Where Debian (and PG_BIN) keep the server binaries; `postgres` refuses to start as root. */
export function postgresBinDir(): string {
  const candidates = [process.env.PG_BIN, '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin'];
  const dir = candidates.find((d) => d && existsSync(join(d, 'postgres')));
  if (!dir) throw new Error('PostgreSQL server binaries not found: install postgresql-15 or set PG_BIN');
  return dir;
}

/**
 * A PostgreSQL cluster run as a child process on loopback. Used by the test harness (one
 * throwaway cluster per run) and by `wake up` (a supervised cluster under the data directory).
 */
export class PostgresServer {
  private process?: ManagedProcess;
  port = 0;

  constructor(private readonly options: PostgresServerOptions) {}

  /** Superuser URL of database `db` (trust auth on loopback). */
  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /**
   * The URL of `db` over the server's Unix socket (libpq's `?host=/dir`), cheaper per query than
   * loopback TCP; the TCP URL where the socket's path would pass the kernel's 107-byte limit.
   */
  socketUrl(db = 'postgres'): string {
    const socket = join(this.options.dataDir, `.s.PGSQL.${this.port}`);
    if (Buffer.byteLength(socket) > 100) return this.url(db);
    return `postgres://postgres@localhost:${this.port}/${db}?host=${encodeURIComponent(this.options.dataDir)}`;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<this> {
    const bin = postgresBinDir();
    const runAs = userInfo().uid === 0 ? 'postgres' : undefined;
    const clusterDir = join(this.options.dataDir, 'data');
    await mkdir(this.options.dataDir, { recursive: true });
    if (runAs) await chownTo(this.options.dataDir, runAs);
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) await this.initdb(bin, clusterDir, runAs);

    this.port = this.options.port ?? (await freePort());
    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      port: this.port,
      unix_socket_directories: this.options.dataDir,
      max_connections: this.options.maxConnections ?? 200,
      fsync: this.options.fsync === false ? 'off' : 'on',
      synchronous_commit: this.options.fsync === false ? 'off' : 'on',
      full_page_writes: this.options.fsync === false ? 'off' : 'on',
      shared_buffers: '256MB',
      max_wal_size: '2GB',
      ...this.options.settings,
    };
    const args = ['-D', clusterDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    this.process = new ManagedProcess({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args,
      runAs,
      logFile: join(this.options.dataDir, 'postgres.log'),
    });
    this.process.start((code) => this.options.onUnexpectedExit?.(code));
    await this.waitReady();
    return this;
  }

  /** Fast shutdown (SIGINT): aborts open transactions, checkpoints, exits. */
  async stop(): Promise<void> {
    await this.process?.stop('SIGINT');
  }

  private async initdb(bin: string, clusterDir: string, runAs?: string): Promise<void> {
    const args = [
      '-D',
      clusterDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ];
    const [cmd, argv] = runAs
      ? ['runuser', ['-u', runAs, '--', join(bin, 'initdb'), ...args]]
      : [join(bin, 'initdb'), args];
    try {
      await run(cmd, argv, { maxBuffer: 4 * 1024 * 1024 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`initdb failed in ${clusterDir}: ${err.stderr || err.message}`, { cause: e });
    }
  }

  private async waitReady(): Promise<void> {
    const sql = postgres(this.url(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await waitFor(
        `postgres on port ${this.port}`,
        async () => {
          if (!this.process?.isRunning()) throw new Error(`postgres exited: ${await this.tailLog()}`);
          await sql`select 1`;
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  private async tailLog(): Promise<string> {
    const log = await readFile(join(this.options.dataDir, 'postgres.log'), 'utf8').catch(() => '');
    return log.split('\n').slice(-15).join('\n');
  }

  /** Stops the server and removes its whole data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.options.dataDir, { recursive: true, force: true });
  }

  /**
   * A throwaway server in a fresh temporary directory (tests, benchmarks); `destroy()` removes
   * it. Durability stays on unless `options.fsync` says otherwise.
   */
  static async temporary(
    prefix: string,
    options: Omit<PostgresServerOptions, 'dataDir'> = {},
  ): Promise<PostgresServer> {
    const dataDir = await mkdtemp(join(tmpdir(), prefix));
    // Postgres runs as its own user when we are root; it must be able to reach its directory.
    await chmod(dataDir, 0o755);
    return new PostgresServer({ ...options, dataDir }).start();
  }
}

async function chownTo(dir: string, user: string): Promise<void> {
  const { uid, gid } = userIds(user);
  await chown(dir, uid, gid);
}
