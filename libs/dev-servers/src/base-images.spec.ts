import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { hostFiles } from './base-images.js';
import { elfInterpreter } from './local-images.js';
import { type TarEntry } from './tar-archive.js';

describe('hostFiles', () => {
  let dir: string;
  const rel = (p: string) => p.replace(/^\/+/, '');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-hostfiles-'));
    await mkdir(join(dir, 'real', 'share', 'skip'), { recursive: true });
    await writeFile(join(dir, 'real', 'share', 'data.txt'), 'hello');
    await writeFile(join(dir, 'real', 'share', 'skip', 'big.bin'), 'x');
    await symlink('data.txt', join(dir, 'real', 'share', 'alias.txt'));
    // As Debian's /lib -> usr/lib: the path asked for goes through a symlinked ancestor.
    await symlink('real', join(dir, 'link'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps symlinked ancestors as symlinks and puts the files at their real place', async () => {
    const entries = await hostFiles([join(dir, 'link', 'share')], (p) => p.endsWith('/skip'));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get(rel(join(dir, 'link')))).toEqual({
      type: 'symlink',
      path: rel(join(dir, 'link')),
      target: 'real',
    });
    expect(byPath.get(rel(join(dir, 'real', 'share', 'data.txt')))).toMatchObject({
      type: 'file',
      data: Buffer.from('hello'),
    });
    expect(byPath.get(rel(join(dir, 'real', 'share', 'alias.txt')))).toMatchObject({
      type: 'symlink',
      target: 'data.txt',
    });
    expect([...byPath.keys()].some((p) => p.includes('/skip'))).toBe(false);
    // Parents come before what is in them, as `docker import` extracts in order.
    const paths = entries.map((e) => e.path);
    for (const [i, p] of paths.entries()) {
      const parent = p.split('/').slice(0, -1).join('/');
      if (parent) expect(paths.indexOf(parent)).toBeLessThan(i);
    }
  });

  it("adds a dynamically linked binary's loader and shared libraries", async () => {
    const interpreter = elfInterpreter(readFileSync(process.execPath));
    if (!interpreter) throw new Error(`${process.execPath} is static: this test needs a dynamic node`);
    const entries = await hostFiles([process.execPath]);
    const files = entries.filter((e) => e.type === 'file').map((e) => `/${e.path}`);
    expect(files.some((f) => /\/libc\.so\.6$/.test(f))).toBe(true);
    expect(files.some((f) => /\/ld-linux[^/]*\.so\.\d$/.test(f))).toBe(true);
    // The loader's path (/lib64/ld-linux-x86-64.so.2 on Debian) resolves to a file in the image.
    expect(resolveInImage(entries, interpreter)?.type).toBe('file');
  });
});

/** Follows an absolute path through the entries' symlinks, as the kernel would in the image. */
function resolveInImage(entries: TarEntry[], path: string, hops = 0): TarEntry | undefined {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const entry = byPath.get(parts.slice(0, i).join('/'));
    if (!entry) return undefined;
    if (entry.type === 'symlink' && hops < 16) {
      const base = entry.target.startsWith('/')
        ? entry.target
        : posix.join('/', ...parts.slice(0, i - 1), entry.target);
      return resolveInImage(entries, posix.join(base, ...parts.slice(i)), hops + 1);
    }
    if (i === parts.length) return entry;
  }
  return undefined;
}
