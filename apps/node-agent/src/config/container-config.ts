import { type Container, type Pod } from '../api-types.js';
import { type ContainerSpec } from '../runtime/index.js';

/**
 * The container could not be configured (a missing ConfigMap or Secret key, a bad fieldRef):
 * the kubelet reports the container `waiting` with this reason and retries on the next sync.
 */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}

/** A pod's volumes could not be set up; the pod stays Pending and the sync retries. */
export class VolumeSetupError extends Error {
  override name = 'VolumeSetupError';
  readonly reason = 'FailedMount';
}

/**
 * Turns a pod's spec into what the runtime runs: volumes on the host, then one container's
 * image, command, environment, mounts and resources. The pod workers call it; the sources of
 * ConfigMaps, Secrets, Services and tokens sit behind it.
 */
export interface ContainerConfigurer {
  /** Sets up (or refreshes) the pod's volumes on the host; idempotent. */
  preparePod(pod: Pod): Promise<void>;
  /** The runtime spec of one (init or app) container; throws ContainerConfigError. */
  containerSpec(pod: Pod, container: Container): Promise<ContainerSpec>;
  /** Removes what preparePod made, once the pod's containers are gone. */
  cleanupPod(podUid: string): Promise<void>;
}

export const CONTAINER_CONFIGURER = Symbol('CONTAINER_CONFIGURER');

/** Only what the container itself says: image, command, args, literal env, working dir. */
export class LiteralContainerConfigurer implements ContainerConfigurer {
  async preparePod(): Promise<void> {}

  async containerSpec(_pod: Pod, c: Container): Promise<ContainerSpec> {
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    return {
      name: c.name,
      image: c.image ?? '',
      ...(c.command ? { command: c.command } : {}),
      ...(c.args ? { args: c.args } : {}),
      env,
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      ...(c.tty ? { tty: true } : {}),
      ...(c.stdin ? { stdin: true } : {}),
      ...(c.stdinOnce ? { stdinOnce: true } : {}),
    };
  }

  async cleanupPod(): Promise<void> {}
}
