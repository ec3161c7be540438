import { readFile } from 'node:fs/promises';

import { ManagedProcess, waitFor } from '@app/dev-servers';

import { RELAY_HALTED_EXIT } from './commands/relay.js';
import { Logger } from './logger.js';

export interface RelaySupervisorOptions {
  databaseUrl: string;
  natsUrl: string;
  logFile: string;
  /** The relay halted on a broken invariant: the cluster must stop, not restart it. */
  onHalt: () => void;
}

const log = new Logger('wake');

/**
 * Runs `wake relay` as a child process and restarts it if it dies (it resumes from what the
 * stream holds), with a growing delay; a halt (exit 3) is never restarted.
 */
export class RelaySupervisor {
  private process?: ManagedProcess;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly options: RelaySupervisorOptions) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the relay and waits until it is the active one. */
  async start(): Promise<void> {
    const marker = await this.logLength();
    this.process = new ManagedProcess({
      name: 'relay',
      command: process.execPath,
      // The same entry point and loader flags as this process (tsx in development).
      args: [
        ...process.execArgv,
        process.argv[1],
        'relay',
        '--database-url',
        this.options.databaseUrl,
        '--nats-url',
        this.options.natsUrl,
      ],
      logFile: this.options.logFile,
    });
    this.process.start((code) => this.exited(code));
    await waitFor(
      'the relay to become active',
      async () => {
        if (!this.process?.isRunning()) throw new Error(`the relay exited; see ${this.options.logFile}`);
        const text = await readFile(this.options.logFile, 'utf8').catch(() => '');
        return text.slice(marker).includes('relay active\n') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.process?.stop('SIGTERM');
  }

  private exited(code: number | null): void {
    if (this.stopping) return;
    if (code === RELAY_HALTED_EXIT) {
      log.error('the relay halted: the bus and the log disagree; stopping', { code });
      return this.options.onHalt();
    }
    const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
    log.error('the relay exited; restarting it', { code, inMs: delay });
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((e: unknown) => log.error('restarting the relay failed', { error: String(e) }));
    }, delay).unref();
  }

  private async logLength(): Promise<number> {
    return (await readFile(this.options.logFile, 'utf8').catch(() => '')).length;
  }
}
