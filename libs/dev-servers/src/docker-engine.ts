import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import Docker from 'dockerode';

import { hostBinary } from './host-binary.js';
import { ManagedProcess } from './managed-process.js';
import { waitFor } from './wait-for.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerEngineOptions {
  /** The engine's API socket; only the default one is started here (dockerd's own default). */
  socketPath?: string;
  /** dockerd's stdout and stderr go here when we start it. */
  logFile: string;
  /**
   * Start dockerd in its own session with its output written straight to the log file, so it
   * outlives the process that started it (a test worker); `stopEngine(pid)` ends it later.
   * Otherwise dockerd is a ManagedProcess child that `stop()` ends.
   */
  detached?: boolean;
  startTimeoutMs?: number;
}

/** Where Debian's docker.io installs dockerd (DOCKERD overrides). */
export function dockerdBinary(): string {
  return hostBinary(
    'dockerd',
    [process.env.DOCKERD, '/usr/sbin/dockerd', '/usr/bin/dockerd'],
    'install docker.io or set DOCKERD',
  );
}

/** True when an engine answers on the client's socket. */
export async function engineAnswers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * A Docker engine to talk to: the one already answering on the socket, or, when none does and
 * we are root, a dockerd started here. An engine found running belongs to someone else and is
 * never stopped by us.
 */
export class DockerEngine {
  private constructor(
    readonly docker: Docker,
    /** dockerd's pid when this object started it. */
    readonly startedPid?: number,
    private readonly process?: ManagedProcess,
  ) {}

  get startedHere(): boolean {
    return this.startedPid !== undefined;
  }

  static async ensure(options: DockerEngineOptions): Promise<DockerEngine> {
    const socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
    const docker = new Docker({ socketPath });
    if (await engineAnswers(docker)) return new DockerEngine(docker);
    if (process.getuid?.() !== 0) {
      throw new Error(`no Docker engine answers on ${socketPath}, and only root can start dockerd`);
    }
    if (socketPath !== DEFAULT_DOCKER_SOCKET) {
      throw new Error(
        `no Docker engine answers on ${socketPath}; only the default socket's engine is started here`,
      );
    }
    const started = options.detached ? startDetached(options.logFile) : startManagedDockerd(options.logFile);
    const answered = await engineStarted(docker, socketPath, started, options);
    // Another starter may have won the race for the socket and pid file; ours then exits and
    // theirs is the engine we use, not ours to stop.
    if (answered === 'theirs') return new DockerEngine(docker);
    return new DockerEngine(docker, started.pid, started.managed);
  }

  /** Stops dockerd if this object started it; an engine found running is left alone. */
  async stop(): Promise<void> {
    if (this.process) await this.process.stop('SIGTERM', 30_000);
    else if (this.startedPid !== undefined) await stopEngine(this.startedPid);
  }
}

export interface StartedEngine {
  pid: number;
  isRunning: () => boolean;
  managed?: ManagedProcess;
}

/** dockerd (with `args`: another socket, data root, bridge) as a child process that `managed.stop()` ends. */
export function startManagedDockerd(
  logFile: string,
  args: string[] = [],
  name = 'dockerd',
): StartedEngine & { managed: ManagedProcess } {
  const managed = new ManagedProcess({ name, command: dockerdBinary(), args, logFile });
  managed.start();
  if (managed.pid === undefined) throw new Error(`${name} did not start`);
  return { pid: managed.pid, isRunning: () => managed.isRunning(), managed };
}

/**
 * Waits until an engine answers on `docker`'s socket: 'ours' while the dockerd we started
 * runs, 'theirs' when another one answers and ours has exited (it lost the race for the
 * socket); throws with the log's tail when ours exits and none answers.
 */
export async function engineStarted(
  docker: Docker,
  socketPath: string,
  started: StartedEngine,
  o: { logFile: string; startTimeoutMs?: number },
): Promise<'ours' | 'theirs'> {
  return waitFor(
    `dockerd (pid ${started.pid}) to answer on ${socketPath}`,
    async () => {
      if (await engineAnswers(docker)) return started.isRunning() ? 'ours' : 'theirs';
      if (!started.isRunning()) throw new Error(`dockerd exited: ${await tail(o.logFile)}`);
      return undefined;
    },
    { timeoutMs: o.startTimeoutMs ?? 60_000, intervalMs: 100 },
  );
}

function startDetached(logFile: string): StartedEngine {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(dockerdBinary(), [], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (child.pid === undefined) throw new Error('dockerd did not start');
    const pid = child.pid;
    return { pid, isRunning: () => isDockerd(pid) };
  } finally {
    closeSync(out);
  }
}

/** Whether `pid` is a live dockerd; the command line guards against a reused pid. */
export function isDockerd(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie (state Z) has exited but is not yet reaped by its parent.
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('dockerd') ?? false;
  } catch {
    return false;
  }
}

/** SIGTERMs a dockerd started detached and waits for it to exit (SIGKILL after `timeoutMs`). */
export async function stopEngine(pid: number, timeoutMs = 30_000): Promise<void> {
  if (!isDockerd(pid)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(`dockerd (pid ${pid}) to exit`, () => (isDockerd(pid) ? undefined : true), {
      timeoutMs,
      intervalMs: 100,
    });
  } catch {
    if (isDockerd(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function tail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}
