import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hostBinary } from './host-binary.js';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { waitFor } from './wait-for.js';

export interface NatsServerOptions {
  /** Holds the config, the log and the JetStream store (`jetstream/`). */
  dataDir: string;
  port?: number;
  /** Largest message accepted; must exceed the largest object the API accepts. */
  maxPayloadBytes?: number;
  onUnexpectedExit?: (code: number | null) => void;
}

/** Where Debian installs nats-server (NATS_SERVER overrides). */
export function natsServerBinary(): string {
  return hostBinary(
    'nats-server',
    [process.env.NATS_SERVER, '/usr/sbin/nats-server', '/usr/bin/nats-server'],
    'install nats-server or set NATS_SERVER',
  );
}

export const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024;

/**
 * A JetStream-enabled nats-server on loopback, run as a child process. The store lives under
 * the data directory, so `wipeStore()` between a stop and a start loses every stream, as a
 * lost volume would.
 */
export class NatsServer {
  private process?: ManagedProcess;
  port = 0;

  constructor(private readonly options: NatsServerOptions) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get storeDir(): string {
    return join(this.options.dataDir, 'jetstream');
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<this> {
    await mkdir(this.storeDir, { recursive: true });
    // Keep the port across restarts: clients reconnect to the same URL.
    this.port ||= this.options.port ?? (await freePort());
    const config = join(this.options.dataDir, 'nats.conf');
    await writeFile(
      config,
      [
        `listen: 127.0.0.1:${this.port}`,
        `max_payload: ${this.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD}`,
        // The client's pending limit must hold the largest message too.
        `max_pending: ${4 * (this.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD)}`,
        `jetstream { store_dir: "${this.storeDir}" }`,
      ].join('\n'),
    );
    this.process = new ManagedProcess({
      name: 'nats-server',
      command: natsServerBinary(),
      args: ['-c', config],
      logFile: join(this.options.dataDir, 'nats.log'),
    });
    this.process.start((code) => this.options.onUnexpectedExit?.(code));
    await waitFor(
      `nats-server on port ${this.port}`,
      async () => {
        if (!this.process?.isRunning()) throw new Error(`nats-server exited: ${await this.tailLog()}`);
        // The client port opens once the server (JetStream included) is ready.
        return (await canConnect(this.port)) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    return this;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process?.stop(signal);
  }

  /** Deletes every stream's files; only while stopped. */
  async wipeStore(): Promise<void> {
    if (this.process?.isRunning()) throw new Error('wipeStore() needs the server stopped');
    await rm(this.storeDir, { recursive: true, force: true });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.options.dataDir, { recursive: true, force: true });
  }

  private logText(): Promise<string> {
    return readFile(join(this.options.dataDir, 'nats.log'), 'utf8').catch(() => '');
  }

  private async tailLog(): Promise<string> {
    return (await this.logText()).split('\n').slice(-15).join('\n');
  }

  /** A throwaway server in a fresh temporary directory; `destroy()` removes it. */
  static async temporary(
    prefix: string,
    options: Omit<NatsServerOptions, 'dataDir'> = {},
  ): Promise<NatsServer> {
    const dataDir = await mkdtemp(join(tmpdir(), prefix));
    return new NatsServer({ ...options, dataDir }).start();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
