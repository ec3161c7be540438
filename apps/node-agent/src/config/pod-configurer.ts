import { randomBytes } from 'node:crypto';
import { chmod, mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';

import { Inject, Injectable } from '@nestjs/common';
import { aggregate } from '@app/api';

import { type Container, type Pod, type Volume } from '../api-types.js';
import { type BindMount, type ContainerSpec } from '../runtime/index.js';
import { writeAtomically } from './atomic-writer.js';
import { ContainerConfigError, type ContainerConfigurer, VolumeSetupError } from './container-config.js';
import { makeEnvironment } from './environment.js';
import { expand, mappingFor } from './expansion.js';
import { type PodAddresses } from './field-path.js';
import { checkHostPathType } from './host-path.js';
import { type VolumeMount } from './kube-types.js';
import { OBJECT_SOURCE, type ObjectSource } from './object-source.js';
import { containerResources, type NodeAllocatable } from './resources.js';
import { type KubernetesEndpoint } from './service-env.js';
import { ServiceAccountTokenManager, TOKEN_SOURCE, type TokenSource } from './token-manager.js';
import {
  configMapPayload,
  DEFAULT_MODE,
  downwardApiPayload,
  type Payload,
  secretPayload,
} from './volume-payloads.js';

export interface PodConfigurerOptions {
  /** `<dataDir>/pods`: a pod's volumes and container files live under `<podsDir>/<uid>`. */
  podsDir: string;
  /** Stands in for unset limits in resourceFieldRefs (the node's status.allocatable). */
  nodeAllocatable?: NodeAllocatable;
  /** The node's IPs (status.hostIP/hostIPs); else the pod's status says. */
  hostIPs?: string[];
  /** Replaces the `kubernetes` Service's address in pods' KUBERNETES_SERVICE_* variables. */
  kubernetesEndpoint?: KubernetesEndpoint;
  /** A warning event the kubelet would record about the pod (e.g. skipped envFrom keys). */
  warn?: (pod: Pod, reason: string, message: string) => void;
}

export const POD_CONFIGURER_OPTIONS = Symbol('POD_CONFIGURER_OPTIONS');

/** Upstream's annotation naming where the container writes its termination message. */
const TERMINATION_MESSAGE_PATH_LABEL = 'io.kubernetes.container.terminationMessagePath';
/** The host file behind it, so the pod manager can read the message once the container exits. */
export const TERMINATION_MESSAGE_FILE_LABEL = 'wake.dev/termination-message-file';

const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** A set-up volume: where it is on the host, and whether containers only read it. */
interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

/**
 * The kubelet's container configuration on Docker: volumes set up on the host under the pod's
 * directory (as the kubelet's volume manager and plugins do) and bind-mounted, the environment
 * (makeEnvironmentVariables), `$(VAR)`-expanded command and args, the termination-message
 * file, the user from the security context and resources in the engine's units.
 */
@Injectable()
export class PodConfigurer implements ContainerConfigurer {
  private readonly prepared = new Map<string, Map<string, PreparedVolume>>();
  /** One preparePod or cleanupPod per pod at a time: the atomic writer needs a single writer. */
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly tokens: ServiceAccountTokenManager;

  constructor(
    @Inject(OBJECT_SOURCE) private readonly objects: ObjectSource,
    @Inject(TOKEN_SOURCE) tokenSource: TokenSource,
    @Inject(POD_CONFIGURER_OPTIONS) private readonly o: PodConfigurerOptions,
  ) {
    this.tokens = new ServiceAccountTokenManager(tokenSource);
  }

  /** The pod's own directory on the host. */
  podDir(podUid: string): string {
    return join(this.o.podsDir, podUid);
  }

  preparePod(pod: Pod): Promise<void> {
    const uid = requireUid(pod);
    return this.exclusive(uid, () => this.setUpVolumes(pod, uid));
  }

  async containerSpec(pod: Pod, container: Container): Promise<ContainerSpec> {
    try {
      return await this.buildSpec(pod, container);
    } catch (e) {
      if (e instanceof ContainerConfigError) throw e;
      throw new ContainerConfigError((e as Error).message, { cause: e });
    }
  }

  cleanupPod(podUid: string): Promise<void> {
    return this.exclusive(podUid, async () => {
      this.prepared.delete(podUid);
      this.tokens.forgetPod(podUid);
      // Plain directories, files and links only: nothing is mounted on the host under it.
      await rm(this.podDir(podUid), { recursive: true, force: true });
    });
  }

  private async exclusive<T>(uid: string, work: () => Promise<T>): Promise<T> {
    const before = this.busy.get(uid) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    this.busy.set(uid, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(uid) === run) this.busy.delete(uid);
    }
  }

  // ---- volumes ----

  private async setUpVolumes(pod: Pod, uid: string): Promise<void> {
    // makePodDataDirs: 0750, so only root (and the agent) read what pods are given.
    await mkdir(join(this.podDir(uid), 'volumes'), { recursive: true, mode: 0o750 });
    const volumes = this.prepared.get(uid) ?? new Map<string, PreparedVolume>();
    this.prepared.set(uid, volumes);
    const errors: string[] = [];
    for (const volume of pod.spec?.volumes ?? []) {
      try {
        volumes.set(volume.name, await this.setUpVolume(pod, uid, volume));
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length > 0) throw new VolumeSetupError(errors.join('; '));
  }

  private async setUpVolume(pod: Pod, uid: string, v: Volume): Promise<PreparedVolume> {
    if (v.persistentVolumeClaim) return this.claimedVolume(pod, v.persistentVolumeClaim);
    try {
      if (v.hostPath) {
        await checkHostPathType(v.hostPath.path, v.hostPath.type);
        return { hostPath: v.hostPath.path, readOnly: false };
      }
      if (v.emptyDir) {
        // medium: Memory is a plain directory too: the engine is not asked for a tmpfs.
        const dir = this.volumeDir(uid, 'empty-dir', v.name);
        await mkdir(dir, { recursive: true });
        // Any user of any container may write to it (upstream's 0777).
        await chmod(dir, 0o777);
        return { hostPath: dir, readOnly: false };
      }
      const payloadAndKind = await this.payloadOf(pod, v);
      if (!payloadAndKind) throw new Error(`no volume plugin matched`);
      const [kind, payload] = payloadAndKind;
      const dir = this.volumeDir(uid, kind, v.name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await writeAtomically(dir, payload);
      // Since CVE-2017-1002102 these are mounted read-only whatever the volumeMount says.
      return { hostPath: dir, readOnly: true };
    } catch (e) {
      throw new Error(
        `MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /** The kubelet's own volume path: `<pod>/volumes/kubernetes.io~<plugin>/<name>`. */
  private volumeDir(uid: string, plugin: string, name: string): string {
    return join(this.podDir(uid), 'volumes', `kubernetes.io~${plugin}`, name);
  }

  /** The content of a configMap, secret, downwardAPI or projected volume, with its plugin name. */
  private async payloadOf(pod: Pod, v: Volume): Promise<[string, Payload] | undefined> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const allocatable = this.o.nodeAllocatable ?? {};
    if (v.configMap) {
      const s = v.configMap;
      const cm = await this.objects.configMap(namespace, s.name ?? '');
      if (!cm && !s.optional) throw new Error(`configmap ${JSON.stringify(s.name ?? '')} not found`);
      return ['configmap', configMapPayload(s.items, cm ?? {}, s.defaultMode ?? DEFAULT_MODE, !!s.optional)];
    }
    if (v.secret) {
      const s = v.secret;
      const secret = await this.objects.secret(namespace, s.secretName ?? '');
      if (!secret && !s.optional) throw new Error(`secret ${JSON.stringify(s.secretName ?? '')} not found`);
      return ['secret', secretPayload(s.items, secret ?? {}, s.defaultMode ?? DEFAULT_MODE, !!s.optional)];
    }
    if (v.downwardAPI) {
      const s = v.downwardAPI;
      return [
        'downward-api',
        downwardApiPayload(s.items ?? [], pod, s.defaultMode ?? DEFAULT_MODE, allocatable),
      ];
    }
    if (v.projected) return ['projected', await this.projectedPayload(pod, v.projected)];
    return undefined;
  }

  /** pkg/volume/projected collectData: every source's files in one volume; all failures reported. */
  private async projectedPayload(pod: Pod, projected: NonNullable<Volume['projected']>): Promise<Payload> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const mode = projected.defaultMode ?? DEFAULT_MODE;
    const payload: Payload = new Map();
    const errors: string[] = [];
    for (const source of projected.sources ?? []) {
      try {
        let part: Payload = new Map();
        if (source.configMap) {
          const s = source.configMap;
          const cm = await this.objects.configMap(namespace, s.name ?? '');
          if (!cm && !s.optional) throw new Error(`configmap ${JSON.stringify(s.name ?? '')} not found`);
          part = configMapPayload(s.items, cm ?? {}, mode, !!s.optional);
        } else if (source.secret) {
          const s = source.secret;
          const secret = await this.objects.secret(namespace, s.name ?? '');
          if (!secret && !s.optional) throw new Error(`secret ${JSON.stringify(s.name ?? '')} not found`);
          part = secretPayload(s.items, secret ?? {}, mode, !!s.optional);
        } else if (source.downwardAPI) {
          part = downwardApiPayload(source.downwardAPI.items ?? [], pod, mode, this.o.nodeAllocatable ?? {});
        } else if (source.serviceAccountToken) {
          const t = source.serviceAccountToken;
          const issued = await this.tokens.token(namespace, pod.spec?.serviceAccountName || 'default', {
            ...(t.audience ? { audiences: [t.audience] } : {}),
            expirationSeconds: t.expirationSeconds ?? 3600,
            boundObjectRef: {
              kind: 'Pod',
              apiVersion: 'v1',
              name: pod.metadata?.name ?? '',
              uid: requireUid(pod),
            },
          });
          part = new Map([[t.path, { data: Buffer.from(issued.token), mode }]]);
        }
        for (const [path, file] of part) payload.set(path, file);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    const failed = aggregate(errors);
    if (failed) throw new Error(failed);
    return payload;
  }

  /**
   * A persistentVolumeClaim volume: the bound PersistentVolume's hostPath (or local path), as
   * the volume manager resolves it (desired_state_of_world_populator.go getPVCExtractPV and
   * getPVSpec), with its messages.
   */
  private async claimedVolume(
    pod: Pod,
    source: NonNullable<Volume['persistentVolumeClaim']>,
  ): Promise<PreparedVolume> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const fail = (why: string) => new Error(`error processing PVC ${namespace}/${source.claimName}: ${why}`);
    const pvc = await this.objects.persistentVolumeClaim(namespace, source.claimName);
    if (!pvc)
      throw fail(
        `failed to fetch PVC from API server: persistentvolumeclaims ${JSON.stringify(source.claimName)} not found`,
      );
    if (pvc.metadata?.deletionTimestamp) throw fail('PVC is being deleted');
    if (pvc.status?.phase !== 'Bound') throw fail('PVC is not bound');
    const pvName = pvc.spec?.volumeName;
    if (!pvName) throw fail('PVC has empty pvc.Spec.VolumeName');
    const pv = await this.objects.persistentVolume(pvName);
    if (!pv)
      throw fail(
        `failed to fetch PV ${pvName} from API server: persistentvolumes ${JSON.stringify(pvName)} not found`,
      );
    const claimRef = pv.spec?.claimRef;
    if (!claimRef)
      throw fail(
        `found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`,
      );
    if (claimRef.uid !== pvc.metadata?.uid)
      throw fail(
        `found PV object ${pvName} but its pv.Spec.ClaimRef.UID (${claimRef.uid ?? ''}) does not point to claim.UID (${pvc.metadata?.uid ?? ''})`,
      );
    const readOnly = !!source.readOnly;
    try {
      if (pv.spec?.hostPath) {
        await checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
        return { hostPath: pv.spec.hostPath.path, readOnly };
      }
      if (pv.spec?.local) {
        if ((await stat(pv.spec.local.path).catch(() => undefined)) === undefined)
          throw new Error(`path "${pv.spec.local.path}" does not exist`);
        return { hostPath: pv.spec.local.path, readOnly };
      }
    } catch (e) {
      throw new Error(
        `MountVolume.SetUp failed for volume ${JSON.stringify(pvName)} : ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    throw fail(`PV ${pvName} has no source this node can mount (only hostPath and local)`);
  }

  // ---- one container ----

  private async buildSpec(pod: Pod, c: Container): Promise<ContainerSpec> {
    const env = await makeEnvironment(pod, c, {
      objects: this.objects,
      addresses: this.addresses(pod),
      allocatable: this.o.nodeAllocatable ?? {},
      ...(this.o.kubernetesEndpoint ? { kubernetesEndpoint: this.o.kubernetesEndpoint } : {}),
      warn: (reason, message) => this.o.warn?.(pod, reason, message),
    });
    // kubecontainer.ExpandContainerCommandAndArgs: against the final environment.
    const mapping = mappingFor(env);
    const mounts = await this.makeMounts(pod, c, env);
    const labels: Record<string, string> = {};
    const termination = await this.terminationMessageMount(pod, c);
    if (termination) {
      mounts.push(termination);
      labels[TERMINATION_MESSAGE_PATH_LABEL] = termination.containerPath;
      labels[TERMINATION_MESSAGE_FILE_LABEL] = termination.hostPath;
    }
    const user = userOf(pod, c);
    return {
      name: c.name,
      image: c.image ?? '',
      ...(c.command?.length ? { command: c.command.map((s) => expand(s, mapping)) } : {}),
      ...(c.args?.length ? { args: c.args.map((s) => expand(s, mapping)) } : {}),
      env,
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      mounts,
      resources: containerResources(c),
      labels,
      ...(c.tty ? { tty: true } : {}),
      ...(c.stdin ? { stdin: true } : {}),
      ...(c.stdinOnce ? { stdinOnce: true } : {}),
      ...(user ? { user } : {}),
    };
  }

  /** The node's and pod's addresses: the node's from the options, the sandbox's from pod.status. */
  private addresses(pod: Pod): PodAddresses {
    const status = pod.status ?? {};
    const fromStatus = (list: { ip?: string }[] | undefined, single: string | undefined) =>
      list?.length ? list.map((x) => x.ip ?? '').filter(Boolean) : single ? [single] : [];
    return {
      hostIPs: this.o.hostIPs?.length ? this.o.hostIPs : fromStatus(status.hostIPs, status.hostIP),
      podIPs: fromStatus(status.podIPs, status.podIP),
    };
  }

  /** kubelet_pods.go makeMounts: each volumeMount as a bind mount, subPath resolved inside its volume. */
  private async makeMounts(pod: Pod, c: Container, env: Record<string, string>): Promise<BindMount[]> {
    const volumes = this.prepared.get(requireUid(pod));
    const mounts: BindMount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const volume = volumes?.get(m.name);
      if (!volume)
        throw new Error(
          `cannot find volume ${JSON.stringify(m.name)} to mount into container ${JSON.stringify(c.name)}`,
        );
      const subPath = m.subPathExpr ? expandSubPath(m, env) : (m.subPath ?? '');
      const hostPath = subPath ? await subPathOf(volume.hostPath, subPath) : volume.hostPath;
      mounts.push({ hostPath, containerPath: m.mountPath, readOnly: !!m.readOnly || volume.readOnly });
    }
    return mounts;
  }

  /**
   * An empty, world-writable file per container instance, bind-mounted at
   * terminationMessagePath (kuberuntime_container.go makeMounts), under
   * `<pod>/containers/<name>/`.
   */
  private async terminationMessageMount(pod: Pod, c: Container): Promise<BindMount | undefined> {
    const containerPath = c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
    if (!containerPath) return undefined;
    const dir = join(this.podDir(requireUid(pod)), 'containers', c.name);
    await mkdir(dir, { recursive: true });
    const file = join(dir, randomBytes(4).toString('hex'));
    await writeFile(file, '');
    await chmod(file, 0o666);
    return { hostPath: file, containerPath };
  }
}

function requireUid(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (!uid) throw new Error(`pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''} has no uid`);
  return uid;
}

/** kubecontainer.ExpandContainerVolumeMounts: every reference must have a non-empty value. */
function expandSubPath(m: VolumeMount, env: Record<string, string>): string {
  const missing = new Set<string>();
  const expanded = expand(m.subPathExpr ?? '', (key) => {
    const value = Object.prototype.hasOwnProperty.call(env, key) ? env[key]! : '';
    if (value === '') missing.add(key);
    return value;
  });
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return expanded;
}

/**
 * A subPath inside a volume: relative, no `..`, made as a directory when missing, and — once
 * links are resolved — still inside the volume (upstream's safe subpath).
 */
async function subPathOf(volumePath: string, subPath: string): Promise<string> {
  if (isAbsolute(subPath)) throw new Error(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split(sep).includes('..'))
    throw new Error(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const path = join(volumePath, subPath);
  if ((await stat(path).catch(() => undefined)) === undefined) {
    const mode = (await stat(volumePath)).mode & 0o777;
    await mkdir(path, { recursive: true, mode });
  }
  const [root, resolved] = await Promise.all([realpath(volumePath), realpath(path)]);
  if (resolved !== root && !resolved.startsWith(root + sep))
    throw new Error(`subpath ${JSON.stringify(resolved)} not within volume path ${JSON.stringify(root)}`);
  return resolved;
}

/**
 * The engine's user from the effective security context (the container's over the pod's), as
 * the dockershim's modifyContainerConfig: `uid`, or `uid:gid`; a group alone is refused.
 */
function userOf(pod: Pod, c: Container): string | undefined {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  if (runAsNonRoot && runAsUser === 0)
    throw new Error(
      `container's runAsUser breaks non-root policy (pod: ${JSON.stringify(`${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`)}, container: ${c.name})`,
    );
  if (runAsUser === undefined) {
    if (runAsGroup !== undefined) throw new Error('runAsGroup is specified without a runAsUser');
    return undefined;
  }
  return runAsGroup === undefined ? String(runAsUser) : `${runAsUser}:${runAsGroup}`;
}
