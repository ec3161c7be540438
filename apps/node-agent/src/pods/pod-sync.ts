import { type Container, type EphemeralContainer, type Pod, type PodStatus } from '../api-types.js';
import { ContainerConfigError, type ContainerConfigurer } from '../config/container-config.js';
import { type ProbeManager } from '../probes/probe-manager.js';
import { type DockerRuntime, type PodRef, type SandboxDns } from '../runtime/index.js';
import { computePodActions, type PodActions } from './actions.js';
import { type Backoff, goDuration } from './backoff.js';
import { POD_LABELS, readEnginePod } from './engine-pod.js';
import { ImageError, type ImageManager } from './images.js';
import { ContainerKiller, gracePeriodSeconds, MINIMUM_GRACE_SECONDS } from './kill.js';
import { isRestartableInitContainer, isTerminalPhase } from './phase.js';
import { type PodMemory } from './pod-state.js';
import { pidNamespace, sandboxHostOptions } from './sandbox-options.js';
import { generatePodStatus } from './pod-status.js';
import { type RuntimePodStatus } from './runtime-pod.js';
import { hashContainer } from './spec-hash.js';

export interface PodSyncDeps {
  runtime: DockerRuntime;
  configurer: ContainerConfigurer;
  probes: ProbeManager;
  images: ImageManager;
  memory: PodMemory;
  /** Container restart backoff (CrashLoopBackOff), keyed `<podUid>/<container>`. */
  restarts: Backoff;
  /** Writes the pod's status when it differs from what the API has. */
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** Deletes the pod object for good (grace 0, uid precondition). */
  deletePod(pod: Pod): Promise<void>;
  now(): number;
  hostIP?: string;
  /** The sandbox's resolver settings (the pod's dnsPolicy); undefined: the engine's default. */
  sandboxDns?(pod: Pod): SandboxDns | undefined;
  log(message: string): void;
  /** Records a core/v1 Event about the pod as the kubelet does (`kubectl describe pod` shows them). */
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void;
}

export interface SyncResult {
  /** Sync again this much later (a backoff ends); undefined: only on the next event. */
  retryAfterMs?: number;
}

function refOf(pod: Pod): PodRef {
  return {
    name: pod.metadata!.name!,
    namespace: pod.metadata!.namespace ?? 'default',
    uid: pod.metadata!.uid!,
  };
}

function podLabel(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/** Whether carrying out `actions` changes what the engine has for the pod. */
function changesEngine(a: PodActions): boolean {
  return (
    a.killPod ||
    a.createSandbox ||
    a.containersToKill.length > 0 ||
    a.nextInitContainerToStart !== undefined ||
    a.containersToStart.length > 0 ||
    a.ephemeralContainersToStart.length > 0
  );
}

/** Every container of the pod's spec: init, regular and ephemeral (podutil.VisitContainers). */
function allContainers(pod: Pod): Container[] {
  const spec = pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

/** Where a host-network pod is reached when the agent was not told the node's address. */
const LOOPBACK = '127.0.0.1';

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * One pod's reconcile (pkg/kubelet/kubelet.go syncPod/syncTerminatingPod and
 * kuberuntime_manager.go SyncPod): read what the engine has for the pod's uid, compare with
 * the spec, do what computePodActions says, and report the result as the pod's status. Each
 * call is idempotent; everything it needs to know comes from the engine, the pod object and
 * the agent's memory of start failures.
 */
export class PodSyncer {
  private readonly killer: ContainerKiller;
  private readonly imageIds = new Map<string, string | undefined>();
  /** The instance each `<podUid>/<container>` is probed as, so a running one is tracked once. */
  private readonly tracked = new Map<string, string>();

  constructor(private readonly d: PodSyncDeps) {
    this.killer = new ContainerKiller(d.runtime, d.log);
  }

  async sync(uid: string, pod: Pod | undefined): Promise<SyncResult> {
    const engine = await this.read(uid);
    if (!pod) {
      await this.removeOrphan(uid, engine);
      return {};
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, engine);
      return {};
    }
    // A finished pod stays finished: stop what is left, never start anything again.
    if (isTerminalPhase(pod.status?.phase) || isTerminalPhase(this.status(pod, engine, false).phase)) {
      const stopped = await this.killPod(pod, engine);
      await this.report(pod, stopped ? await this.read(uid) : engine, true);
      return {};
    }
    try {
      await this.d.configurer.preparePod(pod);
    } catch (e) {
      await this.report(pod, engine, false);
      throw e;
    }
    const actions = computePodActions(pod, engine, (id) => this.d.memory.unhealthyMessage(id));
    const retryAfterMs = await this.execute(pod, engine, actions);
    // The engine is read again only when this sync changed something in it (the periodic
    // resync of a settled pod then costs one read, not two).
    const after = changesEngine(actions) ? await this.read(uid) : engine;
    this.track(pod, after);
    await this.collectGarbage(pod, after);
    await this.report(pod, after, false);
    return retryAfterMs === undefined ? {} : { retryAfterMs };
  }

  private read(uid: string): Promise<RuntimePodStatus> {
    return readEnginePod(this.d.runtime, uid, this.imageIds);
  }

  private status(pod: Pod, engine: RuntimePodStatus, podIsTerminal: boolean): PodStatus {
    const uid = pod.metadata!.uid!;
    const live = new Map(engine.containers.filter((c) => c.state === 'running').map((c) => [c.name, c.id]));
    return generatePodStatus({
      pod,
      runtime: engine,
      podIsTerminal,
      now: new Date(this.d.now()),
      ...(this.d.hostIP ? { hostIP: this.d.hostIP } : {}),
      reason: (name) => this.d.memory.reason(uid, name),
      killMessage: (id) => this.d.memory.killMessage(id),
      ready: (name) => live.has(name) && this.d.probes.isReady(uid, name),
      started: (name) => live.has(name) && this.d.probes.isStarted(uid, name),
    });
  }

  private async report(pod: Pod, engine: RuntimePodStatus, podIsTerminal: boolean): Promise<void> {
    await this.d.writeStatus(pod, this.status(pod, engine, podIsTerminal));
  }

  /** SyncPod: kill what must go, make the sandbox, then the next init container or the app containers. */
  private async execute(
    pod: Pod,
    engine: RuntimePodStatus,
    actions: PodActions,
  ): Promise<number | undefined> {
    const uid = pod.metadata!.uid!;
    let sandboxId = actions.sandboxId;
    if (actions.killPod) {
      await this.killPod(pod, engine);
      if (!actions.createSandbox) return undefined;
    }
    if (actions.createSandbox) {
      // A new sandbox runs initialization again from the start (purgeInitContainers).
      const inits = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
      for (const c of engine.containers.filter((x) => inits.has(x.name))) await this.remove(c.id);
      engine = { ...engine, containers: engine.containers.filter((c) => !inits.has(c.name)) };
      // Sandboxes that never came up (the engine failed them) go; the newest keeps the attempt count.
      for (const s of engine.sandboxes.slice(1)) if (!s.ready) await this.collect(s.id);
      this.d.log(`pod ${podLabel(pod)}: starting sandbox attempt ${actions.attempt}`);
      if (actions.attempt > 0)
        this.d.event(
          pod,
          'Normal',
          'SandboxChanged',
          'Pod sandbox changed, it will be killed and re-created.',
        );
      const dns = this.d.sandboxDns?.(pod);
      try {
        sandboxId = await this.d.runtime.runSandbox(refOf(pod), actions.attempt, {
          ...(dns ? { dns } : {}),
          ...sandboxHostOptions(pod),
        });
      } catch (e) {
        // The engine refused it (a hostPort taken, a hostIP not on the node): the user sees it
        // in the pod's Events; the sync fails and is retried on its backoff, and the next
        // attempt collects the sandbox that never came up.
        this.d.event(
          pod,
          'Warning',
          'FailedCreatePodSandBox',
          `Failed to create pod sandbox: ${(e as Error).message}`,
        );
        throw e;
      }
    }
    const podIP = this.podIP(
      pod,
      actions.createSandbox ? (await this.d.runtime.inspect(sandboxId!)).ipAddress : engine.sandboxes[0]?.ip,
    );
    await Promise.all(
      actions.containersToKill.map(async (k) => {
        const grace = this.d.memory.probeGraceSeconds(k.id) ?? gracePeriodSeconds(pod);
        this.d.memory.killedWith(k.id, k.message);
        this.untrack(uid, k.name);
        this.d.log(`pod ${podLabel(pod)}: killing container ${k.name}: ${k.message}`);
        this.d.event(pod, 'Normal', 'Killing', k.message, k.name);
        const spec = this.specOf(pod, k.name);
        await this.killer.kill(pod, k.id, spec, grace, podIP);
      }),
    );
    if (actions.containersToKill.length) engine = await this.read(uid);
    let retry: number | undefined;
    // SyncPod's order: ephemeral containers first, so a failing init container cannot keep a
    // debugger out.
    for (const c of actions.ephemeralContainersToStart)
      retry = earliest(retry, await this.start(pod, sandboxId!, c, engine));
    if (actions.nextInitContainerToStart)
      retry = earliest(retry, await this.start(pod, sandboxId!, actions.nextInitContainerToStart, engine));
    for (const c of actions.containersToStart)
      retry = earliest(retry, await this.start(pod, sandboxId!, c, engine));
    return retry;
  }

  /** Where probes and hooks reach the pod: its sandbox's address, or the node's for a host-network pod. */
  private podIP(pod: Pod, sandboxIP: string | undefined): string | undefined {
    return pod.spec?.hostNetwork ? (this.d.hostIP ?? LOOPBACK) : sandboxIP;
  }

  private specOf(pod: Pod, name: string): Container | undefined {
    return allContainers(pod).find((c) => c.name === name);
  }

  /**
   * startContainer after doBackOff: a container that exited is started again only once its
   * backoff since it finished is over; the image must be there; the configurer says how it
   * runs; an ephemeral container's target must be running (it joins that one's processes).
   * A failure becomes the container's waiting reason. Returns when to try again.
   */
  private async start(
    pod: Pod,
    sandboxId: string,
    container: Container | EphemeralContainer,
    engine: RuntimePodStatus,
  ): Promise<number | undefined> {
    const uid = pod.metadata!.uid!;
    const memory = this.d.memory;
    const instances = engine.containers.filter((c) => c.name === container.name);
    const exited = instances.find((c) => c.state === 'exited');
    const key = `${uid}/${container.name}`;
    if (exited) {
      const finished = exited.finishedAt?.getTime() ?? this.d.now();
      if (this.d.restarts.isInBackOffSince(key, finished)) {
        const message = `back-off ${goDuration(this.d.restarts.get(key))} restarting failed container=${container.name} pod=${podLabel(pod)}`;
        memory.setReason(uid, container.name, { reason: 'CrashLoopBackOff', message });
        this.d.event(
          pod,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${container.name} in pod ${podLabel(pod)}`,
          container.name,
        );
        return Math.max(1, this.d.restarts.remaining(key, finished));
      }
      this.d.restarts.next(key, finished);
    }
    let pulled: boolean;
    try {
      pulled = await this.d.images.ensureImage(uid, container, () =>
        this.d.event(pod, 'Normal', 'Pulling', `Pulling image "${container.image}"`, container.name),
      );
      this.d.event(
        pod,
        'Normal',
        'Pulled',
        pulled
          ? `Successfully pulled image "${container.image}"`
          : `Container image "${container.image}" already present on machine`,
        container.name,
      );
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      memory.setReason(uid, container.name, { reason: e.reason, message: e.message });
      if (e.reason === 'ImagePullBackOff') this.d.event(pod, 'Normal', 'BackOff', e.message, container.name);
      else if (e.reason === 'ErrImagePull') this.d.event(pod, 'Warning', 'Failed', e.message, container.name);
      this.d.event(pod, 'Warning', 'Failed', `Error: ${e.reason}`, container.name);
      const wait = this.d.images.retryInMs(uid, container.image ?? '');
      // Right after a failed pull, look again soon so the status says it is backing off.
      if (e.reason === 'ErrImagePull') return Math.max(1, Math.min(1000, Math.floor(wait / 2)));
      if (e.reason === 'ImagePullBackOff') return Math.max(1, wait);
      return undefined;
    }
    // A pull may have moved the tag: read the image's id afresh for the new instance.
    if (pulled) this.imageIds.delete(container.image ?? '');
    let spec;
    try {
      spec = await this.d.configurer.containerSpec(pod, container);
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      memory.setReason(uid, container.name, { reason: e.reason, message: e.message });
      this.d.event(pod, 'Warning', 'Failed', `Error: ${e.message}`, container.name);
      return 1000;
    }
    const pid = pidNamespace(pod, container, engine);
    if (pid.error !== undefined) {
      // getTargetID's refusal, a CreateContainerConfigError until the target runs.
      memory.setReason(uid, container.name, { reason: 'CreateContainerConfigError', message: pid.error });
      this.d.event(pod, 'Warning', 'Failed', `Error: ${pid.error}`, container.name);
      return 1000;
    }
    const restartCount = instances[0] ? instances[0].restartCount + 1 : 0;
    const ref = refOf(pod);
    let id: string;
    try {
      id = await this.d.runtime.createContainer(
        sandboxId,
        ref,
        {
          ...spec,
          ...(pid.namespace ? { pid: pid.namespace } : {}),
          labels: {
            ...spec.labels,
            [POD_LABELS.restartCount]: String(restartCount),
            [POD_LABELS.hash]: hashContainer(container),
          },
        },
        restartCount,
      );
    } catch (e) {
      memory.setReason(uid, container.name, {
        reason: 'CreateContainerError',
        message: (e as Error).message,
      });
      this.d.event(pod, 'Warning', 'Failed', `Error: ${(e as Error).message}`, container.name);
      return 1000;
    }
    this.d.event(pod, 'Normal', 'Created', `Created container ${container.name}`, container.name);
    try {
      await this.d.runtime.startContainer(id);
    } catch (e) {
      memory.setReason(uid, container.name, { reason: 'RunContainerError', message: (e as Error).message });
      this.d.event(pod, 'Warning', 'Failed', `Error: ${(e as Error).message}`, container.name);
      return 1000;
    }
    this.d.event(pod, 'Normal', 'Started', `Started container ${container.name}`, container.name);
    memory.clearReason(uid, container.name);
    this.d.log(`pod ${podLabel(pod)}: started container ${container.name} (restart ${restartCount})`);
    return undefined;
  }

  /** Tells the probe manager about every running instance (a new id replaces the old worker). */
  private track(pod: Pod, engine: RuntimePodStatus): void {
    const uid = pod.metadata!.uid!;
    const ip = this.podIP(pod, engine.sandboxes[0]?.ip);
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const latest = engine.containers.find((x) => x.name === c.name);
      const isInit = (pod.spec?.initContainers ?? []).includes(c) && !isRestartableInitContainer(c);
      const key = `${uid}/${c.name}`;
      if (latest?.state === 'running' && !isInit) {
        if (this.tracked.get(key) === latest.id) continue;
        this.tracked.set(key, latest.id);
        this.d.probes.track({
          pod,
          container: c,
          containerId: latest.id,
          ...(ip ? { podIP: ip } : {}),
          startedAt: latest.startedAt ?? new Date(this.d.now()),
        });
      } else if (this.tracked.delete(key)) this.d.probes.untrack(uid, c.name);
    }
  }

  /**
   * The container GC's per-pod rule (maxPerPodContainer = 1): of each container keep the
   * running instance and the newest exited one (`kubectl logs --previous`, lastState); of
   * the sandboxes keep the newest. Instances of names no longer in the spec go too.
   */
  private async collectGarbage(pod: Pod, engine: RuntimePodStatus): Promise<void> {
    // An ephemeral container's exited instance is what says it ran: removing it would start it again.
    const names = new Set(allContainers(pod).map((c) => c.name));
    const keptExited = new Set<string>();
    for (const c of engine.containers) {
      if (c.state === 'running') continue;
      if (names.has(c.name) && !keptExited.has(c.name)) {
        keptExited.add(c.name);
        continue;
      }
      await this.collect(c.id);
    }
    for (const s of engine.sandboxes.slice(1)) if (!s.ready) await this.collect(s.id);
  }

  /**
   * Removes a dead container the pod no longer needs. As the kubelet's container GC, a failure
   * (a busy mount after an engine crash, say) is reported and retried on a later sync; it does
   * not stop this sync from running the pod and writing its status.
   */
  private async collect(id: string): Promise<void> {
    try {
      await this.remove(id);
    } catch (e) {
      this.d.log(
        `could not remove dead container ${id.slice(0, 12)} (retried on a later sync): ${(e as Error).message}`,
      );
    }
  }

  private async remove(id: string): Promise<void> {
    await this.d.runtime.removeContainer(id, { force: true });
    this.d.memory.forgetContainer(id);
  }

  /** killPodWithSyncResult: every running container (in parallel, with its grace), then the sandboxes. */
  /** Returns whether it stopped anything (otherwise the engine is as it was). */
  private async killPod(pod: Pod, engine: RuntimePodStatus, graceSeconds?: number): Promise<boolean> {
    this.untrack(pod.metadata?.uid ?? engine.uid);
    const podIP = this.podIP(pod, engine.sandboxes[0]?.ip);
    const live = engine.containers.filter((c) => c.state === 'running' || c.state === 'created');
    const sandboxes = engine.sandboxes.filter((x) => x.ready);
    await Promise.all(
      live.map((c) => {
        if (c.state === 'running')
          this.d.event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`, c.name);
        return this.killer.kill(
          pod,
          c.id,
          this.specOf(pod, c.name),
          graceSeconds ?? gracePeriodSeconds(pod),
          podIP,
        );
      }),
    );
    for (const s of sandboxes) await this.d.runtime.stopContainer(s.id, 0);
    return live.length + sandboxes.length > 0;
  }

  /** syncTerminatingPod + the status manager's final delete: stop, remove, clean up, delete the object. */
  private async terminate(pod: Pod, engine: RuntimePodStatus): Promise<void> {
    const uid = pod.metadata!.uid!;
    this.d.log(`pod ${podLabel(pod)}: terminating with grace ${gracePeriodSeconds(pod)}s`);
    await this.killPod(pod, engine);
    const stopped = await this.read(uid);
    await this.d
      .writeStatus(pod, this.status(pod, stopped, true))
      .catch((e: unknown) =>
        this.d.log(`pod ${podLabel(pod)}: final status not written: ${(e as Error).message}`),
      );
    // As podResourcesAreReclaimed: nothing runs any more, so the object may go; a container the
    // engine will not remove yet is the container GC's, retried by the orphan resync.
    for (const c of [...stopped.containers, ...stopped.sandboxes]) await this.collect(c.id);
    await this.d.configurer.cleanupPod(uid);
    this.forget(uid);
    await this.d.deletePod(pod);
  }

  /** A pod the API no longer has (deleted while the agent was away, or never ours): remove its containers. */
  private async removeOrphan(uid: string, engine: RuntimePodStatus): Promise<void> {
    if (engine.containers.length === 0 && engine.sandboxes.length === 0) {
      this.forget(uid);
      return;
    }
    this.d.log(
      `pod ${uid}: no longer in the API; removing its ${engine.containers.length + engine.sandboxes.length} containers`,
    );
    const stub: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { uid }, spec: { containers: [] } };
    await this.killPod(stub, engine, MINIMUM_GRACE_SECONDS);
    for (const c of [...engine.containers, ...engine.sandboxes]) await this.collect(c.id);
    await this.d.configurer.cleanupPod(uid);
    this.forget(uid);
  }

  private untrack(uid: string, container?: string): void {
    if (container) this.tracked.delete(`${uid}/${container}`);
    else for (const key of this.tracked.keys()) if (key.startsWith(`${uid}/`)) this.tracked.delete(key);
    this.d.probes.untrack(uid, container);
  }

  private forget(uid: string): void {
    this.untrack(uid);
    this.d.memory.forgetPod(uid);
    this.d.restarts.resetPrefix(`${uid}/`);
  }
}
