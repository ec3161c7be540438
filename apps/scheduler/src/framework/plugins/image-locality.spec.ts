import { describe, expect, it } from '@jest/globals';

import { makeNode, makePod, runScore, snapshotOf } from '../test-fixtures.js';
import { imageScore, ImageLocality, normalizedImageName } from './image-locality.js';

const MB = 1024 * 1024;
const withImages = (name: string, ...images: [string, number][]) =>
  makeNode(name, { images: images.map(([n, size]) => ({ names: [n], sizeBytes: size * MB })) });
const podWithImages = (...images: string[]) =>
  makePod('p', { containers: images.map((image, i) => ({ name: `c${i}`, image })) });

describe('ImageLocality', () => {
  it('normalises untagged image names to :latest', () => {
    expect(normalizedImageName('gcr.io/40')).toBe('gcr.io/40:latest');
    expect(normalizedImageName('gcr.io/40:v1')).toBe('gcr.io/40:v1');
    expect(normalizedImageName('localhost:5000/img')).toBe('localhost:5000/img:latest');
  });

  it('maps the summed size onto 0..100 between 23 MB and 1000 MB per container', () => {
    expect(imageScore(10 * MB, 1)).toBe(0);
    expect(imageScore(1000 * MB, 1)).toBe(100);
    expect(imageScore(5000 * MB, 2)).toBe(100);
    expect(imageScore(511 * MB, 1)).toBe(Math.trunc((100 * (488 * MB)) / (977 * MB)));
  });

  it('weights each image by the share of nodes that have it', () => {
    const snapshot = snapshotOf(
      [withImages('n1', ['gcr.io/250:latest', 250], ['gcr.io/10:v1', 10])],
      [withImages('n2', ['gcr.io/10:v1', 10])],
    );
    // n1: 250 MB × 1/2 = 125 MB → 100 × (125 − 23) / (2000 − 23) with two containers → 5;
    // the small image is everywhere: 10 MB × 2/2, under the threshold on n2 → 0.
    const expectedN1 = Math.trunc((100 * (125 * MB + 10 * MB - 23 * MB)) / (2000 * MB - 23 * MB));
    expect(runScore(new ImageLocality(), podWithImages('gcr.io/250', 'gcr.io/10:v1'), snapshot)).toEqual({
      n1: expectedN1,
      n2: 0,
    });
  });

  it('prefers the node with the larger image when both are on one node each', () => {
    const snapshot = snapshotOf(
      [withImages('n1', ['gcr.io/40:latest', 40])],
      [withImages('n2', ['gcr.io/300:latest', 300])],
      [makeNode('n3')],
    );
    const scores = runScore(new ImageLocality(), podWithImages('gcr.io/40', 'gcr.io/300'), snapshot);
    // n1: 40/3 ≈ 13 MB < 23 MB → 0; n2: 300/3 = 100 MB → 100 × 77 / 1977 → 3.
    expect(scores).toEqual({
      n1: 0,
      n2: Math.trunc((100 * (100 * MB - 23 * MB)) / (2000 * MB - 23 * MB)),
      n3: 0,
    });
    expect(scores.n2).toBe(3);
  });

  it('scores 0 everywhere when no node has any of the images', () => {
    const snapshot = snapshotOf([withImages('n1', ['other:1', 500])]);
    expect(runScore(new ImageLocality(), podWithImages('gcr.io/x'), snapshot)).toEqual({ n1: 0 });
  });
});
