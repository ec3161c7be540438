import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DockerEngine, ensureLocalImages, type LocalImages, stopEngine, waitFor } from '@app/dev-servers';
import type Docker from 'dockerode';

import { acquireFileLock } from './file-lock.js';
import { requireHarnessState } from './harness-state.js';

/**
 * Docker for the suites that need it, started lazily: a run of suites that never call this
 * starts no engine, builds no image and pays nothing. The first caller in a run starts dockerd
 * (when none answers and we are root) detached, so it outlives the worker that started it,
 * and records its pid in the harness directory; the global teardown stops it
 * (`stopHarnessDocker`). An engine that was already running is used and left running.
 */
export interface TestDocker {
  docker: Docker;
  images: LocalImages;
}

const PID_FILE = 'dockerd.pid';
const LOCK_FILE = 'dockerd.lock';

let pending: Promise<TestDocker> | undefined;

export function dockerForTests(): Promise<TestDocker> {
  pending ??= startDocker().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function startDocker(): Promise<TestDocker> {
  const { root } = requireHarnessState();
  // Workers run suites in parallel: one starts the engine and builds the images, the others
  // wait for its lock to go and then find both ready.
  const release = await acquireFileLock(join(root, LOCK_FILE));
  try {
    const engine = await DockerEngine.ensure({ logFile: join(root, 'dockerd.log'), detached: true });
    if (engine.startedPid !== undefined) await writeFile(join(root, PID_FILE), String(engine.startedPid));
    const images = await ensureLocalImages(engine.docker);
    return { docker: engine.docker, images };
  } finally {
    await release();
  }
}

/** Global teardown: stops the dockerd a suite of this run started, if any. */
export async function stopHarnessDocker(root: string): Promise<void> {
  const pidFile = join(root, PID_FILE);
  if (!existsSync(pidFile)) return;
  const pid = Number(await readFile(pidFile, 'utf8'));
  await stopEngine(pid);
  await rm(pidFile, { force: true });
}

/**
 * Removes every container labelled with a test's cluster id — app containers before the
 * sandboxes whose namespaces they share, retried while the engine is busy — and returns what
 * is left (an empty list when all went), for the suite to assert on.
 */
export async function removeClusterContainers(
  docker: Docker,
  clusterId: string,
): Promise<Docker.ContainerInfo[]> {
  const filters = { label: [`wake.dev/cluster=${clusterId}`] };
  const ours = () => docker.listContainers({ all: true, filters });
  await waitFor(
    `the containers of ${clusterId} to be removed`,
    async () => {
      const left = await ours();
      for (const sandboxes of [false, true])
        await Promise.all(
          left
            .filter((c) => (c.Labels['io.kubernetes.docker.type'] === 'podsandbox') === sandboxes)
            // A removal the engine refuses now is retried on the next round.
            .map((c) =>
              docker
                .getContainer(c.Id)
                .remove({ force: true, v: true })
                .catch(() => undefined),
            ),
        );
      return (await ours()).length === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
    // Not all gone in time: what is left is returned, and the suite's assertion names it.
  ).catch(() => undefined);
  return ours();
}
