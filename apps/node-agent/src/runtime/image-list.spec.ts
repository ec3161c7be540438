import { describe, expect, it } from '@jest/globals';
import type Docker from 'dockerode';

import { IMAGE_LIST_REFRESH_MS, ImageList } from './image-list.js';

/** An engine whose image list is whatever `images` holds, counting the reads. */
function engine() {
  const e = {
    images: [] as Docker.ImageInfo[],
    reads: 0,
    listImages: async () => {
      e.reads++;
      return [...e.images];
    },
  };
  return e;
}

const image = (tag: string) => ({ Id: tag, RepoTags: [tag], Size: 1 }) as Docker.ImageInfo;

describe('ImageList', () => {
  it('reads the engine once until the refresh period passed', async () => {
    const docker = engine();
    let now = 0;
    const list = new ImageList(docker, { now: () => now });
    docker.images = [image('a:1')];
    expect(await list.list()).toEqual([image('a:1')]);
    docker.images = [image('a:1'), image('b:1')];
    now = IMAGE_LIST_REFRESH_MS - 1;
    expect(await list.list()).toEqual([image('a:1')]);
    expect(docker.reads).toBe(1);
    now = IMAGE_LIST_REFRESH_MS;
    expect(await list.list()).toEqual([image('a:1'), image('b:1')]);
    expect(docker.reads).toBe(2);
  });

  it('reads again at once after a pull or removal invalidated it', async () => {
    const docker = engine();
    const list = new ImageList(docker, { now: () => 0 });
    await list.list();
    docker.images = [image('pulled:1')];
    list.invalidate();
    expect(await list.list()).toEqual([image('pulled:1')]);
    expect(docker.reads).toBe(2);
  });

  it('does not keep a read that was under way when the images changed', async () => {
    const docker = engine();
    const list = new ImageList(docker, { now: () => 0 });
    const before = list.list();
    list.invalidate();
    await before;
    docker.images = [image('pulled:1')];
    expect(await list.list()).toEqual([image('pulled:1')]);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const docker = {
      listImages: async () => {
        if (fail) throw new Error('engine down');
        return [image('a:1')];
      },
    };
    const list = new ImageList(docker, { now: () => 0 });
    await expect(list.list()).rejects.toThrow('engine down');
    fail = false;
    expect(await list.list()).toEqual([image('a:1')]);
  });
});
