import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';

import { busyboxRootfs, elfInterpreter } from './local-images.js';

describe('busyboxRootfs', () => {
  const entries = busyboxRootfs(Buffer.from('ELF'), ['bin/sh', 'usr/bin/env', 'sbin/ip']);

  it('links every applet to /bin/busybox, creating their directories first', () => {
    const paths = entries.map((e) => e.path);
    expect(entries.filter((e) => e.type === 'symlink')).toEqual([
      { type: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
      { type: 'symlink', path: 'usr/bin/env', target: '/bin/busybox' },
      { type: 'symlink', path: 'sbin/ip', target: '/bin/busybox' },
    ]);
    for (const dir of ['usr', 'usr/bin', 'sbin', 'bin']) {
      expect(paths.indexOf(dir)).toBeGreaterThanOrEqual(0);
      expect(paths.indexOf(dir)).toBeLessThan(paths.findIndex((p) => p.startsWith(`${dir}/`)));
    }
  });

  it('has an executable busybox, a world-writable sticky /tmp and a root user', () => {
    expect(entries).toContainEqual({
      type: 'file',
      path: 'bin/busybox',
      data: Buffer.from('ELF'),
      mode: 0o755,
    });
    expect(entries).toContainEqual({ type: 'directory', path: 'tmp', mode: 0o1777 });
    const passwd = entries.find((e) => e.path === 'etc/passwd');
    expect(passwd?.type === 'file' && passwd.data.toString()).toMatch(/^root:x:0:0:/);
  });
});

describe('elfInterpreter', () => {
  it('names the dynamic loader of a dynamically linked binary', () => {
    expect(elfInterpreter(readFileSync(process.execPath))).toMatch(/ld-linux/);
  });

  it('finds none in busybox-static’s binary', () => {
    expect(elfInterpreter(readFileSync('/bin/busybox'))).toBeUndefined();
  });

  it('rejects what is not a 64-bit ELF file', () => {
    expect(() => elfInterpreter(Buffer.from('#!/bin/sh\n'.repeat(10)))).toThrow(/ELF/);
  });
});
