import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { hostNameservers } from './upstream.js';

describe('hostNameservers (the upstreams of `forward . /etc/resolv.conf`)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-dns-upstream-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes every nameserver line on port 53, without comments or a scope id', async () => {
    const path = join(dir, 'resolv.conf');
    await writeFile(
      path,
      [
        '# nameserver 192.0.2.99',
        'nameserver 192.0.2.1 # the site resolver',
        'search example.test',
        'nameserver fe80::1%eth0',
        'options ndots:2',
        '',
      ].join('\n'),
    );
    expect(await hostNameservers(path)).toEqual([
      { host: '192.0.2.1', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
  });

  it('fails with the path when the file cannot be read', async () => {
    await expect(hostNameservers(join(dir, 'missing'))).rejects.toThrow(/missing/);
  });
});
