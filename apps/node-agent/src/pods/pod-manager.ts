import { Logger } from '@nestjs/common';
import { type NatsConnection } from '@nats-io/transport-node';
import { podsOnNode, type EventStreamOptions } from '@app/bus';
import {
  type ApiClient,
  ApiError,
  EventRecorder,
  ExponentialBackoff,
  Informer,
  resourcePath,
  WorkQueue,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type Pod, type PodStatus } from '../api-types.js';
import { type ContainerConfigurer } from '../config/container-config.js';
import { type DnsConfig, podDnsConfig, type PodDnsSettings } from '../config/pod-dns.js';
import { type ProbeManager } from '../probes/probe-manager.js';
import { type DockerRuntime } from '../runtime/index.js';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { EngineEventWatcher } from './engine-events.js';
import { ImageManager } from './images.js';
import { PodMemory } from './pod-state.js';
import { PodSyncer } from './pod-sync.js';
import { stableJson } from './spec-hash.js';

export interface PodManagerOptions {
  nodeName: string;
  /** The cluster label of this agent's containers (the runtime filters by it too). */
  clusterId: string;
  /** Container restart and image pull backoff. Default 10 s doubling to 300 s, reset after 600 s. */
  backoff?: Partial<BackoffOptions>;
  /** How often every pod is synced even without news (the engine relisted). Default 10 s. */
  resyncMs?: number;
  /** The node's address, reported as the pods' hostIP. */
  hostIP?: string;
  /** Cluster DNS and the host's resolver configuration, for pods' dnsPolicy (absent: the engine's default for every pod). */
  dns?: PodDnsSettings;
  /** Pod workers running at once (one pod is only ever synced by one). Default 4. */
  workers?: number;
  /** Reconnect backoff of the engine's event stream: base and cap in ms. */
  engineReconnectMs?: [number, number];
  /** The bus stream the pod informer follows (tests' own stream names). */
  stream?: EventStreamOptions;
  clock?: () => number;
  log?: (message: string) => void;
}

const PODS = { group: '', version: 'v1', plural: 'pods' };

function asPod(o: StoredObject | undefined): Pod | undefined {
  return o as unknown as Pod | undefined;
}

/**
 * The node agent's pod lifecycle (the kubelet's pod workers, PLEG and status manager): an
 * informer of the pods bound to this node, one reconcile at a time per pod uid through a work
 * queue, woken by pod changes, the engine's container events, probe results, backoff timers
 * and a periodic resync; orphaned containers (pods deleted while the agent was away) are
 * removed. It holds no state that the engine and the API do not: a new manager adopts what a
 * crashed one left running.
 */
export class PodManager {
  private readonly informer: Informer<StoredObject>;
  private readonly queue: WorkQueue<string>;
  private readonly events: EngineEventWatcher;
  private readonly syncer: PodSyncer;
  private readonly recorder: EventRecorder;
  private readonly memory = new PodMemory();
  private readonly clock: () => number;
  private readonly log: (message: string) => void;
  /** The last status written per pod uid: a write is skipped when nothing changed. */
  private readonly written = new Map<string, string>();
  private resyncTimer?: NodeJS.Timeout;
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(
    private readonly api: ApiClient,
    nats: NatsConnection,
    private readonly runtime: DockerRuntime,
    configurer: ContainerConfigurer,
    probes: ProbeManager,
    private readonly o: PodManagerOptions,
  ) {
    this.clock = o.clock ?? Date.now;
    const logger = new Logger(`pods ${o.nodeName}`);
    this.log = o.log ?? ((m) => logger.log(m));
    const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...o.backoff };
    this.informer = new Informer<StoredObject>({
      api,
      nats,
      ...(o.stream ? { stream: o.stream } : {}),
      resource: PODS,
      indexers: { uid: (p) => (p.metadata.uid ? [p.metadata.uid] : []) },
      scope: { fieldSelector: `spec.nodeName=${o.nodeName}`, subject: podsOnNode(o.nodeName) },
      onTrouble: (e) => this.log(`pod informer: ${e.message}`),
    });
    this.informer.onChange((change) => {
      const uid = change.object.metadata.uid;
      if (!uid) return;
      if (change.type === 'deleted') this.written.delete(uid);
      this.queue.add(uid);
    });
    // Failed syncs retry per pod from 100 ms up to the container backoff's cap.
    this.queue = new WorkQueue<string>(new ExponentialBackoff(100, backoff.capMs));
    this.events = new EngineEventWatcher(
      () => runtime.containerEvents(),
      {
        onEvent: (e) => {
          if (!e.podUid || !['start', 'die', 'oom', 'destroy', 'stop', 'kill'].includes(e.action)) return;
          // A pod whose sync keeps failing is retried on its backoff: the engine's events about
          // its own failed attempts (a sandbox created, then gone) must not make that a hot loop.
          if (this.queue.retries(e.podUid) > 0) return;
          this.queue.add(e.podUid);
        },
        onReconnect: () => {
          this.log('engine event stream back: resyncing every pod');
          void this.resyncAll();
        },
        onTrouble: (e) => this.log(`engine events: ${e.message}`),
      },
      o.engineReconnectMs ? { backoffMs: o.engineReconnectMs } : {},
    );
    this.recorder = new EventRecorder(api, {
      component: 'kubelet',
      instance: o.nodeName,
      host: o.nodeName,
      onTrouble: (e) => this.log(`event not recorded: ${e.message}`),
    });
    this.syncer = new PodSyncer({
      event: (pod, type, reason, message, container) => this.event(pod, type, reason, message, container),
      runtime,
      configurer,
      probes,
      images: new ImageManager(runtime, new Backoff(backoff, this.clock), this.log, this.clock),
      memory: this.memory,
      restarts: new Backoff(backoff, this.clock),
      writeStatus: (pod, status) => this.writeStatus(pod, status),
      deletePod: (pod) => this.deletePod(pod),
      now: this.clock,
      ...(o.hostIP ? { hostIP: o.hostIP } : {}),
      ...(o.dns ? { sandboxDns: (pod: Pod) => this.sandboxDns(pod, o.dns!) } : {}),
      log: this.log,
    });
    probes.setListener({
      onChange: (podUid) => this.queue.add(podUid),
      onProbeEvent: (podUid, containerName, _containerId, e) => {
        const pod = this.podByUid(podUid);
        if (pod) this.event(pod, 'Warning', e.reason, e.message, containerName);
      },
      onUnhealthy: (podUid, containerName, containerId, _message, detail) => {
        // The kill message gets ", will be restarted" from computePodActions, per restartPolicy.
        this.memory.markUnhealthy(
          containerId,
          `Container ${containerName} failed ${detail.probe.toLowerCase()} probe`,
          detail.terminationGracePeriodSeconds,
        );
        this.queue.add(podUid);
      },
    });
  }

  /** Lists the node's pods, adopts what the engine runs, and starts the workers. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.events.start();
    this.informer.start();
    await this.informer.synced();
    await this.resyncAll();
    for (let i = 0; i < (this.o.workers ?? 4); i++) this.workers.push(this.work());
    const every = this.o.resyncMs ?? 10_000;
    this.resyncTimer = setInterval(() => void this.resyncAll(), every);
    this.resyncTimer.unref();
  }

  /** Stops syncing; the pods' containers keep running (a restarted agent adopts them). */
  async stop(): Promise<void> {
    if (!this.started) return;
    clearInterval(this.resyncTimer);
    await this.events.stop();
    await this.informer.stop();
    await this.queue.shutdownAndDrain();
    await Promise.all(this.workers);
    this.workers = [];
    await this.recorder.flush();
  }

  /** The pod's sandbox resolver settings, its warnings recorded as the kubelet's dns configurer does. */
  private sandboxDns(pod: Pod, settings: PodDnsSettings): DnsConfig | undefined {
    const { config, warnings } = podDnsConfig(pod, settings);
    for (const w of warnings) this.event(pod, 'Warning', w.reason, w.message);
    return config;
  }

  /** An Event about the pod, or one of its containers (involvedObject.fieldPath as the kubelet sets it). */
  private event(
    pod: Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    container?: string,
  ): void {
    if (!pod.metadata?.name) return;
    this.recorder.record({
      object: { apiVersion: 'v1', kind: 'Pod', ...(pod as StoredObject) },
      type,
      reason,
      message,
      ...(container !== undefined
        ? { fieldPath: `spec.${containerList(pod, container)}{${container}}` }
        : {}),
    });
  }

  /** The pods bound to this node, by phase (the kubelet's running-pods gauge and friends). */
  podsByPhase(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const uid of this.informer.cache.indexValues('uid')) {
      const phase = this.podByUid(uid)?.status?.phase ?? 'Pending';
      counts.set(phase, (counts.get(phase) ?? 0) + 1);
    }
    return counts;
  }

  /** The pod with this uid as the informer has it. */
  private podByUid(uid: string): Pod | undefined {
    return asPod(this.informer.cache.byIndex('uid', uid)[0]);
  }

  /** Every pod of the node and every pod uid the engine has containers of (orphans included). */
  private async resyncAll(): Promise<void> {
    try {
      const uids = new Set(this.informer.cache.indexValues('uid'));
      for (const c of await this.runtime.listContainers()) if (c.pod.uid) uids.add(c.pod.uid);
      for (const uid of uids) this.queue.add(uid);
    } catch (e) {
      this.log(`resync: ${(e as Error).message}`);
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const uid = await this.queue.get();
      if (uid === undefined) return;
      try {
        const result = await this.syncer.sync(uid, this.podByUid(uid));
        this.queue.forget(uid);
        if (result.retryAfterMs !== undefined && !this.queue.shutDown)
          this.queue.addAfter(uid, result.retryAfterMs);
      } catch (e) {
        this.log(`sync of pod ${uid} failed: ${(e as Error).message}`);
        this.queue.addRateLimited(uid);
      } finally {
        this.queue.done(uid);
      }
    }
  }

  /** The status manager: PATCH pods/status when the status differs from the API's and from the last write. */
  private async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata!.uid!;
    // The informer may have a newer pod of the same name by now: never write one pod's status to another.
    if (this.podByUid(uid) === undefined) return;
    const body = stableJson(status);
    if (body === stableJson(pod.status ?? {}) || this.written.get(uid) === body) return;
    const path = resourcePath({
      ...PODS,
      namespace: pod.metadata!.namespace ?? 'default',
      name: pod.metadata!.name!,
      subresource: 'status',
    });
    try {
      await this.api.patch(path, { status }, { cause: Number(pod.metadata?.resourceVersion ?? 0) });
      this.written.set(uid, body);
    } catch (e) {
      if (ApiError.isNotFound(e)) return;
      throw e;
    }
  }

  /** The status manager's final delete: grace 0, only this uid (a recreated pod of the same name is not ours). */
  private async deletePod(pod: Pod): Promise<void> {
    const path = resourcePath({
      ...PODS,
      namespace: pod.metadata!.namespace ?? 'default',
      name: pod.metadata!.name!,
    });
    try {
      await this.api.delete(
        path,
        {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata!.uid },
        },
        { cause: Number(pod.metadata?.resourceVersion ?? 0) },
      );
    } catch (e) {
      if (ApiError.isNotFound(e) || ApiError.isConflict(e)) return;
      throw e;
    }
    this.written.delete(pod.metadata!.uid!);
  }
}

/** The spec list a container is in, as ref.GetPartialReference names it in an Event's fieldPath. */
function containerList(pod: Pod, name: string): 'initContainers' | 'containers' | 'ephemeralContainers' {
  const named = (list: { name: string }[] | undefined) => (list ?? []).some((c) => c.name === name);
  if (named(pod.spec?.initContainers)) return 'initContainers';
  if (named(pod.spec?.ephemeralContainers)) return 'ephemeralContainers';
  return 'containers';
}
