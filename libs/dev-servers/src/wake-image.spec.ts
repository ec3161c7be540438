import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { productionPackages } from './wake-image.js';

describe('productionPackages', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-lock-'));
    await writeFile(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'wake' },
          'node_modules/fastify': { version: '5.0.0' },
          'node_modules/jest': { version: '30.0.0', dev: true },
          'node_modules/fastify/node_modules/semver': { version: '7.0.0' },
          'node_modules/@esbuild/linux-x64': { version: '0.25.0', dev: true, optional: true },
          'node_modules/nan': { version: '2.0.0', optional: true },
          'node_modules/wake-local': { link: true },
        },
      }),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps what the lock does not mark dev, nested ones included, parents first', async () => {
    expect(await productionPackages(dir)).toEqual([
      'node_modules/fastify',
      'node_modules/fastify/node_modules/semver',
      'node_modules/nan',
    ]);
  });
});
