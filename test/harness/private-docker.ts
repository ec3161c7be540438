import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  engineStarted,
  ensureLocalImages,
  type LocalImages,
  type ManagedProcess,
  startManagedDockerd,
} from '@app/dev-servers';
import Docker from 'dockerode';

const run = promisify(execFile);

/**
 * A Docker engine of one suite's own, for tests that restart or stop the engine: its own data
 * and exec roots, socket, and a bridge of its own (no iptables rules, so the shared engine's
 * are untouched). Other suites keep using the shared engine undisturbed. Root only.
 */
export interface PrivateDocker {
  docker: Docker;
  socketPath: string;
  images: LocalImages;
  /** Stops dockerd (its containers stop with it, as on a host's engine restart) and starts it again. */
  restart(): Promise<void>;
  /** Stops dockerd and removes its bridge and directories. */
  close(): Promise<void>;
}

export async function privateDocker(): Promise<PrivateDocker> {
  const dir = await mkdtemp(join(tmpdir(), 'wake-dockerd-'));
  const bridge = `wk${randomBytes(3).toString('hex')}`;
  // A /24 in 10.213.0.0/16 that no other interface of the host uses.
  const subnet = `10.213.${1 + (randomBytes(1)[0]! % 250)}`;
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const socketPath = join(dir, 'docker.sock');
  const docker = new Docker({ socketPath });
  let dockerd: ManagedProcess | undefined;
  const logFile = join(dir, 'dockerd.log');
  const start = async () => {
    const started = startManagedDockerd(
      logFile,
      [
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'docker.pid'),
        '--host',
        `unix://${socketPath}`,
        '--bridge',
        bridge,
        '--iptables=false',
        '--ip-masq=false',
        '--userland-proxy=false',
      ],
      'private dockerd',
    );
    dockerd = started.managed;
    await engineStarted(docker, socketPath, started, { logFile });
  };
  const close = async () => {
    // Containers first, while the engine can still unmount their filesystems.
    if (dockerd?.isRunning()) {
      const left = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        left.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
    }
    await dockerd?.stop('SIGTERM', 30_000);
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    // A mount an engine stopped hard left behind would make the directory unremovable.
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    await start();
    const images = await ensureLocalImages(docker);
    return {
      docker,
      socketPath,
      images,
      restart: async () => {
        await dockerd?.stop('SIGTERM', 30_000);
        await start();
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
