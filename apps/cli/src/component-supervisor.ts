import { readFile } from 'node:fs/promises';

import { ManagedProcess, waitFor } from '@app/dev-servers';

import { createLogger } from '@app/logging';

import { nodeFlagsFor } from './component-node-flags.js';

export interface ComponentSupervisorOptions {
  /** The `wake` subcommand and its arguments, e.g. ['relay', '--database-url', ...]. */
  args: string[];
  /** The line the component prints on stdout once it is ready. */
  readyLine: string;
  logFile: string;
  /** An exit code meaning "a broken invariant; never restart" (the relay's halt). */
  haltExitCode?: number;
  /** The component halted: the cluster must stop, not restart it. */
  onHalt?: () => void;
}

const log = createLogger('wake');

/**
 * Runs one cluster component as a `wake <subcommand>` child process and restarts it if it
 * dies, with a growing delay (each component resumes from durable state: the log, the
 * stream); a halt is never restarted.
 */
export class ComponentSupervisor {
  private process?: ManagedProcess;
  private stopping = false;
  private restarts = 0;

  constructor(
    readonly name: string,
    private readonly options: ComponentSupervisorOptions,
  ) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the component and waits until it says it is ready. */
  async start(): Promise<void> {
    const marker = await this.logLength();
    this.process = new ManagedProcess({
      name: this.name,
      command: process.execPath,
      // The same entry point and loader flags as this process (tsx in development).
      args: [
        ...process.execArgv,
        ...nodeFlagsFor(this.options.args[0]),
        process.argv[1],
        ...this.options.args,
      ],
      logFile: this.options.logFile,
    });
    this.process.start((code) => this.exited(code));
    await waitFor(
      `the ${this.name} to become ready`,
      async () => {
        if (!this.process?.isRunning())
          throw new Error(`the ${this.name} exited; see ${this.options.logFile}`);
        const text = await readFile(this.options.logFile, 'utf8').catch(() => '');
        return text.slice(marker).includes(`${this.options.readyLine}`) ? true : undefined;
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
    if (this.options.haltExitCode !== undefined && code === this.options.haltExitCode) {
      log.error({ code }, `the ${this.name} halted on a broken invariant; stopping`);
      return this.options.onHalt?.();
    }
    const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
    log.error({ code, inMs: delay }, `the ${this.name} exited; restarting it`);
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((e: unknown) =>
        log.error({ error: String(e) }, `restarting the ${this.name} failed`),
      );
    }, delay).unref();
  }

  private async logLength(): Promise<number> {
    return (await readFile(this.options.logFile, 'utf8').catch(() => '')).length;
  }
}
