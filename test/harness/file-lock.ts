import { open, readFile, rename, rm } from 'node:fs/promises';

/**
 * Takes the lock file at `path` (created exclusively, holding our pid), waiting while another
 * live process holds it. A lock whose owner died (a worker killed mid-start) is reclaimed
 * instead of waited out. Resolves with its release.
 */
export async function acquireFileLock(
  path: string,
  { timeoutMs = 180_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(String(process.pid));
      } finally {
        await handle.close();
      }
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await reclaimStale(path)) continue;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${path}: another worker holds it`, { cause: e });
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * Removes the lock when its owner is gone. The rename to a name of our own is atomic, so of
 * several waiters only one takes the stale file away; it can't remove a fresh lock another
 * waiter took in the meantime, since that one was created after the rename.
 */
async function reclaimStale(path: string): Promise<boolean> {
  const owner = Number(await readFile(path, 'utf8').catch(() => ''));
  // An empty file: its owner is between creating and writing it.
  if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) return false;
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch {
    return false; // another waiter reclaimed it first
  }
  const moved = Number(await readFile(aside, 'utf8').catch(() => ''));
  if (moved !== owner) {
    // Between our read and the rename the stale lock went and a live owner took it: give it back.
    await rename(aside, path).catch(() => undefined);
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, but is not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
