import { type Container } from '../api-types.js';
import { type DockerRuntime } from '../runtime/index.js';
import { type Backoff } from './backoff.js';

/** A container whose image is not there to run: its waiting reason and message. */
export class ImageError extends Error {
  override name = 'ImageError';
  constructor(
    readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** The tag of an image reference, if it has one (a registry's `host:port/` is no tag). */
function tagOf(image: string): string | undefined {
  const name = image.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

/**
 * imagePullPolicy as set or defaulted (pkg/apis/core/v1/defaults.go SetDefaults_Container):
 * Always for `:latest` or an untagged image without digest, otherwise IfNotPresent.
 */
export function pullPolicyOf(container: Container): 'Always' | 'IfNotPresent' | 'Never' {
  const set = container.imagePullPolicy;
  if (set === 'Always' || set === 'IfNotPresent' || set === 'Never') return set;
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = tagOf(image);
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Docker's reference of an untagged image is its `:latest` (images.applyDefaultImageTag). */
export function withDefaultTag(image: string): string {
  return image.includes('@') || tagOf(image) !== undefined ? image : `${image}:latest`;
}

/** imageID as the dockershim reported it: the repo digest when pulled, else the local id. */
export function apiImageId(image: { id: string; repoDigests: string[] }): string {
  const digest = image.repoDigests[0];
  return digest ? `docker-pullable://${digest}` : `docker://${image.id}`;
}

/**
 * Makes sure a container's image is on the engine before it is created
 * (pkg/kubelet/images/image_manager.go EnsureImageExists): per pull policy, pulling when
 * needed with the pod's image backoff — a failed pull is ErrImagePull, a pull asked for
 * again within the backoff is ImagePullBackOff — and ErrImageNeverPull for a missing image
 * under Never.
 */
export class ImageManager {
  constructor(
    private readonly runtime: DockerRuntime,
    private readonly backoff: Backoff,
    private readonly log: (message: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves true when it pulled the image, false when it was there; `onPulling` is told before a pull. */
  async ensureImage(
    podUid: string,
    container: Container,
    onPulling: () => void = () => undefined,
  ): Promise<boolean> {
    const image = container.image ?? '';
    if (!image) throw new ImageError('InvalidImageName', `Failed to apply default image tag "": empty image`);
    const ref = withDefaultTag(image);
    const policy = pullPolicyOf(container);
    const present = (await this.runtime.inspectImage(ref)) !== undefined;
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (present) return false;
      throw new ImageError(
        'ErrImageNeverPull',
        `Container image "${image}" is not present with pull policy of Never`,
      );
    }
    const key = `${podUid}_${image}`;
    if (this.backoff.isInBackOffSinceUpdate(key, this.now()))
      throw new ImageError('ImagePullBackOff', `Back-off pulling image "${image}"`);
    this.log(`Pulling image "${image}"`);
    onPulling();
    try {
      await this.runtime.pullImage(ref, (progress) => this.log(`${image}: ${progress}`));
    } catch (e) {
      this.backoff.next(key, this.now());
      throw new ImageError('ErrImagePull', `Failed to pull image "${image}": ${(e as Error).message}`);
    }
    this.log(`Successfully pulled image "${image}"`);
    return true;
  }

  /** ms until `podUid`'s image can be pulled again (0: now). */
  retryInMs(podUid: string, image: string): number {
    return this.backoff.remainingSinceUpdate(`${podUid}_${image}`);
  }
}
