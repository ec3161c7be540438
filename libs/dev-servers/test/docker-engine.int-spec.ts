import { copyFileSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DockerEngine, engineAnswers, ensureLocalImages } from '@app/dev-servers';
import { dockerForTests, type TestDocker } from '@app/testing/docker.js';

describe('DockerEngine and the locally built images', () => {
  let env: TestDocker;
  const dir = mkdtempSync(join(tmpdir(), 'wake-images-'));
  const madeImages: string[] = [];

  beforeAll(async () => {
    env = await dockerForTests();
  });

  afterAll(async () => {
    for (const image of madeImages)
      await env?.docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses an engine that already answers and never stops it', async () => {
    const engine = await DockerEngine.ensure({ logFile: join(dir, 'dockerd.log') });
    expect(engine.startedHere).toBe(false);
    await engine.stop();
    expect(await engineAnswers(engine.docker)).toBe(true);
  });

  it('tags images by recipe: an unchanged recipe reuses the image, a changed one builds anew', async () => {
    expect(env.images.busybox).toMatch(/^wake\/busybox:[0-9a-f]{12}$/);
    expect(env.images.pause).toMatch(/^wake\/pause:[0-9a-f]{12}$/);
    const before = await env.docker.getImage(env.images.pause).inspect();

    const again = await ensureLocalImages(env.docker);
    expect(again).toEqual(env.images);
    expect((await env.docker.getImage(again.pause).inspect()).Id).toBe(before.Id);

    const source = join(dir, 'pause.c');
    copyFileSync(new URL('../../../images/pause/pause.c', import.meta.url), source);
    appendFileSync(source, `\n/* changed ${Date.now()} */\n`);
    const changed = await ensureLocalImages(env.docker, { pauseSource: source });
    madeImages.push(changed.pause);
    expect(changed.busybox).toBe(env.images.busybox);
    expect(changed.pause).not.toBe(env.images.pause);
    const built = await env.docker.getImage(changed.pause).inspect();
    expect(built.Config.Entrypoint).toEqual(['/pause']);
  });

  it('builds a pause image that runs as PID 1 and exits 0 on SIGTERM', async () => {
    const container = await env.docker.createContainer({
      Image: env.images.pause,
      Labels: { 'wake.dev/test': 'pause' },
    });
    try {
      await container.start();
      expect((await container.inspect()).State.Running).toBe(true);
      await container.stop({ t: 30 });
      expect((await container.inspect()).State.ExitCode).toBe(0);
    } finally {
      await container.remove({ force: true });
    }
  });
});
