import { podSpec } from '../api-types.js';
import {
  type CycleState,
  MAX_NODE_SCORE,
  type NodeInfo,
  type PodInfo,
  SKIP,
  type ScorePlugin,
  type Snapshot,
} from '../types.js';

const MB = 1024 * 1024;
/** Below this the image is cheap to pull anyway; above max-per-container the score saturates. */
export const MIN_THRESHOLD = 23 * MB;
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

const PRE_SCORE_KEY = 'ImageLocality/preScore';

/** Upstream's normalizedImageName: an image without a tag is the :latest one. */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

/** Upstream's calculatePriority: the summed scaled sizes clamped and mapped onto 0..100. */
export function imageScore(sumScores: number, numContainers: number): number {
  const max = MAX_CONTAINER_THRESHOLD * numContainers;
  const clamped = Math.min(Math.max(sumScores, MIN_THRESHOLD), max);
  return Math.trunc((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
}

interface ImageSpread {
  /** One entry per container (init and app), with how widely its image is spread. */
  images: { name: string; spread: number }[];
  numContainers: number;
}

/**
 * Favours nodes that already have the pod's images, weighting each image's size by the share
 * of nodes that have it (so an image everywhere does not pull pods together).
 */
export class ImageLocality implements ScorePlugin {
  readonly name = 'ImageLocality';
  readonly weight: number;

  constructor(weight = 1) {
    this.weight = weight;
  }

  preScore(
    state: CycleState,
    pod: PodInfo,
    _nodes: readonly NodeInfo[],
    snapshot: Snapshot,
  ): typeof SKIP | undefined {
    const spec = podSpec(pod.pod);
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    const total = snapshot.nodes.length;
    const images: ImageSpread['images'] = [];
    for (const c of containers) {
      if (c.image === undefined) continue;
      const name = normalizedImageName(c.image);
      const count = snapshot.imageNodeCount(name);
      if (count > 0) images.push({ name, spread: count / total });
    }
    // No node has any of the images: every node would score 0.
    if (images.length === 0) return SKIP;
    state.write(PRE_SCORE_KEY, { images, numContainers: containers.length } satisfies ImageSpread);
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const { images, numContainers } = state.read<ImageSpread>(PRE_SCORE_KEY);
    let sum = 0;
    for (const image of images) {
      const size = node.images.get(image.name);
      if (size !== undefined) sum += Math.trunc(size * image.spread);
    }
    return imageScore(sum, numContainers);
  }
}
