import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ManagedProcessOptions {
  /** Shown in errors and logs. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here, so a failed start can show why. */
  logFile: string;
  /** Run the command as this system user (needed for Postgres when we are root). */
  runAs?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A child server process whose output goes to a log file and whose death before `stop()`
 * is an error the owner can observe.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private exited?: Promise<number | null>;
  private stopping = false;

  constructor(private readonly options: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    const { command, args, runAs, env, logFile } = this.options;
    this.log = createWriteStream(logFile, { flags: 'a' });
    // Switch user in the spawn itself, not through a wrapper such as runuser: signals must
    // reach the server, and its pid must be the server's.
    const child = spawn(command, args, {
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? userIds(runAs) : {}),
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.stopping) onUnexpectedExit?.(code, signal);
        resolve(code);
      });
      child.once('error', () => resolve(null));
    });
  }

  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.closeLog();
    this.stopping = true;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    await this.closeLog();
  }

  isRunning(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  private closeLog(): Promise<void> {
    return new Promise((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }
}

/** uid and gid of a system user, for spawning as that user. */
export function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
