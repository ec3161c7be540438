import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { acquireFileLock } from './file-lock.js';

describe('acquireFileLock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-lock-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('holds our pid while held and is gone once released', async () => {
    const path = join(dir, 'held.lock');
    const release = await acquireFileLock(path);
    expect(await readFile(path, 'utf8')).toBe(String(process.pid));
    await release();
    expect(existsSync(path)).toBe(false);
  });

  it('waits for a live owner: times out while it holds the lock', async () => {
    const path = join(dir, 'live.lock');
    // The parent of this process is alive for the whole test.
    await writeFile(path, String(process.ppid));
    await expect(acquireFileLock(path, { timeoutMs: 300, intervalMs: 20 })).rejects.toThrow(/timed out/);
    expect(await readFile(path, 'utf8')).toBe(String(process.ppid));
  });

  it('reclaims a lock whose owner died', async () => {
    const path = join(dir, 'stale.lock');
    // A process that has exited (and was reaped): its pid names no live process.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(path, String(dead));
    const release = await acquireFileLock(path, { timeoutMs: 5_000, intervalMs: 20 });
    expect(await readFile(path, 'utf8')).toBe(String(process.pid));
    await release();
  });
});
