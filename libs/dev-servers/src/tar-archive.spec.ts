import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { tarArchive } from './tar-archive.js';

describe('tarArchive', () => {
  const archive = tarArchive([
    { type: 'directory', path: 'bin' },
    { type: 'file', path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'symlink', path: 'bin/alias', target: '/bin/tool' },
    { type: 'directory', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: `${'d'.repeat(60)}/${'f'.repeat(80)}`, data: Buffer.alloc(1000, 7) },
  ]);

  it('pads every member to 512-byte blocks and ends with two zero blocks', () => {
    expect(archive.length % 512).toBe(0);
    expect(archive.subarray(archive.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it('writes headers whose checksum tar accepts, root-owned and dated at the epoch', () => {
    const listing = execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], {
      input: archive,
      encoding: 'utf8',
    });
    const lines = listing.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^-rwxr-xr-x 0\/0 +18 1970-01-01 00:00 bin\/tool$/);
    expect(lines[2]).toMatch(/^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 bin\/alias -> \/bin\/tool$/);
    expect(lines[3]).toMatch(/^drwxrwxrwt 0\/0 .* tmp\/$/);
  });

  it('round-trips contents, modes, links and long names through the system tar', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wake-tar-'));
    try {
      execFileSync('tar', ['-x', '-C', dir, '-f', '-'], { input: archive });
      expect(readFileSync(join(dir, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(statSync(join(dir, 'bin/tool')).mode & 0o777).toBe(0o755);
      expect(readlinkSync(join(dir, 'bin/alias'))).toBe('/bin/tool');
      expect(readFileSync(join(dir, 'd'.repeat(60), 'f'.repeat(80)))).toEqual(Buffer.alloc(1000, 7));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic', () => {
    const entries = [{ type: 'file' as const, path: 'a', data: Buffer.from('x') }];
    expect(tarArchive(entries).equals(tarArchive(entries))).toBe(true);
  });

  it('refuses a path that cannot be stored', () => {
    expect(() => tarArchive([{ type: 'directory', path: 'x'.repeat(300) }])).toThrow(/too long/);
  });
});
