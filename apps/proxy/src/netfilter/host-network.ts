import { execFile } from 'node:child_process';

/** The only way the proxy changes the host's network: iptables' nat table and the routing table. */
export interface HostNetwork {
  /** `iptables-save -t <table>`. */
  save(table: 'nat'): Promise<string>;
  /** `iptables-restore -w --noflush`: chains declared in `text` are flushed and refilled, nothing else. */
  restore(text: string): Promise<void>;
  /** `iptables -w <args>`. */
  iptables(args: readonly string[]): Promise<void>;
  /** `ip <args>`; returns stdout. */
  ip(args: readonly string[]): Promise<string>;
}

export const HOST_NETWORK = Symbol('HostNetwork');

/** A command that failed, with what it said: iptables' and ip's messages are the diagnosis. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly stderr: string,
    cause: unknown,
  ) {
    super(`${command} ${args.join(' ')}: ${stderr.trim() || (cause as Error).message}`, { cause });
  }
}

function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new CommandError(command, args, stderr, error)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The real thing: shells out to iptables (-w waits for the xtables lock other writers hold) and ip. */
export class ShellHostNetwork implements HostNetwork {
  save(table: 'nat'): Promise<string> {
    return run('iptables-save', ['-t', table]);
  }

  async restore(text: string): Promise<void> {
    await run('iptables-restore', ['-w', '--noflush'], text);
  }

  async iptables(args: readonly string[]): Promise<void> {
    await run('iptables', ['-w', ...args]);
  }

  ip(args: readonly string[]): Promise<string> {
    return run('ip', args);
  }
}
