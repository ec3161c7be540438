import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type FileProjection, validatePath, writeAtomically } from './atomic-writer.js';

const file = (text: string, mode = 0o644): FileProjection => ({ data: Buffer.from(text), mode });

/** On the real file system, in a temporary directory. */
describe('atomic volume writes (upstream AtomicWriter)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wake-atomic-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes files into a timestamped directory behind ..data and visible links', async () => {
    const dir = join(root, 'v1');
    await writeAtomically(
      dir,
      new Map([
        ['a', file('one')],
        ['sub/b', file('two', 0o600)],
      ]),
    );
    const data = await readlink(join(dir, '..data'));
    expect(data).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/);
    expect(await readlink(join(dir, 'a'))).toBe('..data/a');
    expect(await readlink(join(dir, 'sub'))).toBe('..data/sub');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('one');
    expect(await readFile(join(dir, 'sub/b'), 'utf8')).toBe('two');
    expect((await stat(join(dir, 'sub/b'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, data))).mode & 0o777).toBe(0o755);
  });

  it('swaps the whole set on a change, drops removed names and the old directory, and leaves an unchanged set alone', async () => {
    const dir = join(root, 'v2');
    await writeAtomically(
      dir,
      new Map([
        ['a', file('one')],
        ['gone', file('x')],
      ]),
    );
    const first = await readlink(join(dir, '..data'));
    await writeAtomically(
      dir,
      new Map([
        ['a', file('one')],
        ['gone', file('x')],
      ]),
    );
    expect(await readlink(join(dir, '..data'))).toBe(first);

    await writeAtomically(
      dir,
      new Map([
        ['a', file('changed')],
        ['new', file('n')],
      ]),
    );
    const second = await readlink(join(dir, '..data'));
    expect(second).not.toBe(first);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('changed');
    expect(await readFile(join(dir, 'new'), 'utf8')).toBe('n');
    await expect(lstat(join(dir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(dir)).sort()).toEqual(['..data', second, 'a', 'new'].sort());

    // A mode change alone is a change too.
    await writeAtomically(
      dir,
      new Map([
        ['a', file('changed', 0o400)],
        ['new', file('n')],
      ]),
    );
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o400);
  });

  it('refuses paths outside the volume or in its reserved names', async () => {
    expect(() => validatePath('/etc/passwd')).toThrow('invalid path: must be relative path: /etc/passwd');
    expect(() => validatePath('a/../../b')).toThrow("invalid path: must not contain '..': a/../../b");
    expect(() => validatePath('..data')).toThrow("invalid path: must not start with '..': ..data");
    expect(() => validatePath('')).toThrow('invalid path: must not be empty');
    await expect(writeAtomically(join(root, 'v3'), new Map([['../x', file('x')]]))).rejects.toThrow('..');
  });
});
