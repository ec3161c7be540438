import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import {
  ApiClient,
  type ApiConnection,
  connectionsClosedLast,
  EventRecorder,
  type Informer,
  LeaderElector,
  leaseRequestTimeoutMs,
  resourcePath,
  SharedInformers,
} from '@app/client';
import { type EventStreamOptions } from '@app/bus';
import { type MetricsServer, serveMetrics } from '@app/metrics';

import { PodWrites } from './api/pod-writes.js';
import { ClusterEvents } from './cluster-events.js';
import { defaultPlugins } from './framework/default-plugins.js';
import { ANN_SELECTED_NODE, VolumeBinding } from './framework/plugins/volume-binding.js';
import { SchedulingQueue, type SchedulingQueueOptions } from './queue/scheduling-queue.js';
import { Scheduler } from './scheduler.js';
import { FrameworkAlgorithm, SchedulerCache } from './scheduler-cache.js';
import { SchedulerMetrics } from './scheduler-metrics.js';

export interface SchedulerConfig {
  connection: ApiConnection;
  natsUrl: string;
  stream?: EventStreamOptions;
  /** Pods whose spec.schedulerName is this are ours (upstream default "default-scheduler"). */
  schedulerName?: string;
  /** This instance in the Lease's holderIdentity. */
  identity?: string;
  /** Elect a leader among replicas on the kube-system/<leaseName> Lease (default on). */
  leaderElect?: boolean;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  queue?: SchedulingQueueOptions;
  /** Serve /metrics and /healthz on this loopback port (0: any free port; absent: not served). */
  metricsPort?: number;
  /** VolumeBinding's bindTimeoutSeconds, in ms (upstream 600 s): how long PreBind waits for a claim to bind. */
  volumeBindTimeoutMs?: number;
  /** Called when leadership is lost; the process should exit (upstream's scheduler does). */
  onLostLeadership?: () => void;
}

export const SCHEDULER_CONFIG = Symbol('SchedulerConfig');
export const NATS = Symbol('NatsConnection');

/** What the API client sends as its leader fence: set by the runtime once it has an elector. */
export class WriteFence {
  current: () => string | null | undefined = () => undefined;
}

/**
 * The scheduler process: informers on nodes, pods and namespaces (running whether or not this
 * replica leads, so a new leader starts warm), and, while leading, the scheduling loop.
 * Every write is fenced by the lease, so a replica that lost it cannot bind anything.
 */
@Injectable()
export class SchedulerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  readonly queue: SchedulingQueue;
  readonly cache = new SchedulerCache();
  /** One feed of the event stream for all of them (see SharedInformers). */
  private readonly informers: SharedInformers;
  readonly nodes: Informer;
  readonly pods: Informer;
  readonly namespaces: Informer;
  /** Claims, volumes and classes: what VolumeBinding reads. */
  readonly volumeInformers: Informer[];
  readonly scheduler: Scheduler;
  readonly metrics: SchedulerMetrics;
  private metricsServer?: MetricsServer;
  readonly elector?: LeaderElector;
  readonly identity: string;
  /** The elector's own client: lease renewals never queue behind bindings and status writes. */
  private readonly leaseClient?: ApiClient;
  private loop?: Promise<void>;
  private electing?: Promise<void>;

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    @Inject(ApiClient) api: ApiClient,
    @Inject(NATS) nats: NatsConnection,
    @Inject(WriteFence) fence: WriteFence,
  ) {
    const name = config.schedulerName ?? 'default-scheduler';
    // Unique per process, as kube-scheduler's hostname_uuid: a restarted container (same host
    // name, pid 1) must not pass for the holder it replaced.
    this.identity = config.identity ?? `${hostname()}_${randomUUID()}`;
    const identity = this.identity;
    const trouble = (what: string) => (e: Error) => this.logger.warn(`${what}: ${e.message}`);
    this.queue = new SchedulingQueue(config.queue);
    this.informers = new SharedInformers({
      api,
      nats,
      stream: config.stream,
      onTrouble: (what, e) => trouble(what)(e),
    });
    this.nodes = this.informers.informer({ group: '', version: 'v1', plural: 'nodes' });
    this.pods = this.informers.informer({ group: '', version: 'v1', plural: 'pods' });
    this.namespaces = this.informers.informer({ group: '', version: 'v1', plural: 'namespaces' });
    const events = new ClusterEvents(this.cache, this.queue, name);
    this.nodes.onChange((c) => events.node(c));
    this.pods.onChange((c) => events.pod(c));
    const namespaceLabels = (ns: string) => this.namespaces.cache.get(ns)?.metadata.labels;
    const [claims, volumes, classes] = [
      { group: '', version: 'v1', plural: 'persistentvolumeclaims' },
      { group: '', version: 'v1', plural: 'persistentvolumes' },
      { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses' },
    ].map((resource) => this.informers.informer(resource));
    this.volumeInformers = [claims, volumes, classes];
    // A claim, volume or class appearing or changing may let a pod waiting on its volumes fit.
    for (const i of this.volumeInformers) i.onChange(() => this.queue.moveAllToActiveOrBackoff());
    const volumeBinding = new VolumeBinding(
      {
        claim: (ns, n) => claims.cache.get(`${ns}/${n}`),
        volume: (n) => volumes.cache.get(n),
        storageClass: (n) => classes.cache.get(n),
      },
      {
        bindTimeoutMs: config.volumeBindTimeoutMs,
        selectNode: async (claim, node, cause) => {
          const path = resourcePath({
            group: '',
            version: 'v1',
            plural: 'persistentvolumeclaims',
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
          });
          await api.patch(path, { metadata: { annotations: { [ANN_SELECTED_NODE]: node } } }, { cause });
        },
      },
    );
    this.metrics = new SchedulerMetrics(name, this.queue);
    this.scheduler = new Scheduler({
      metrics: this.metrics,
      queue: this.queue,
      cache: this.cache,
      algorithm: new FrameworkAlgorithm(defaultPlugins({ namespaceLabels, volumeBinding })),
      preBind: (pod, node, cause) => volumeBinding.preBind(pod, node, cause),
      writes: new PodWrites(api),
      events: new EventRecorder(api, { component: name, instance: identity, onTrouble: trouble('event') }),
      onTrouble: (e, pod) => this.logger.warn(`${pod}: ${e.message}`),
    });
    if (config.leaderElect !== false)
      this.leaseClient = new ApiClient(config.connection, {
        userAgent: `wake-scheduler/${name}/leader-election`,
        maxInFlight: 2,
        timeoutMs: leaseRequestTimeoutMs(config.renewDeadlineMs),
      });
    if (this.leaseClient)
      this.elector = new LeaderElector({
        api: this.leaseClient,
        namespace: 'kube-system',
        name: config.leaseName ?? 'kube-scheduler',
        identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        onStartedLeading: (fence) => {
          this.logger.log(`leading (${fence})`);
          this.startLoop();
        },
        onStoppedLeading: () => {
          this.logger.warn('lost the lease: scheduling stops');
          this.scheduler.stop();
          config.onLostLeadership?.();
        },
        onTrouble: trouble('leader election'),
      });
    // Electing but not leading: writes are refused before they are sent (a deposed leader's
    // syncs still in flight must not write unfenced while the new leader acts).
    fence.current = () => (this.elector ? (this.elector.fence ?? null) : undefined);
  }

  /** Where /metrics is served, when it is. */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort !== undefined)
      this.metricsServer = await serveMetrics(this.metrics.registry, this.config.metricsPort);
    // Nodes first: pods then land on known nodes, and the first pods scheduled see every node.
    this.nodes.start();
    this.namespaces.start();
    for (const i of this.volumeInformers) i.start();
    await Promise.all([
      this.nodes.synced(),
      this.namespaces.synced(),
      ...this.volumeInformers.map((i) => i.synced()),
    ]);
    this.pods.start();
    await this.pods.synced();
    if (this.elector) this.electing = this.elector.run();
    else this.startLoop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.scheduler.stop();
    await this.loop;
    await this.elector?.stop();
    await this.electing;
    await this.informers.stop();
    this.leaseClient?.close();
    await this.metricsServer?.close();
  }

  private startLoop(): void {
    this.loop ??= this.scheduler.run().catch(async (e: Error) => {
      // A leader that schedules nothing must not keep the lease: step down and let a standby lead.
      this.logger.error(`scheduling loop failed: ${e.message}`);
      await this.elector?.stop();
      this.config.onLostLeadership?.();
    });
  }
}

@Module({})
export class SchedulerModule {
  static forRoot(config: SchedulerConfig): DynamicModule {
    return {
      module: SchedulerModule,
      providers: [
        { provide: SCHEDULER_CONFIG, useValue: config },
        WriteFence,
        {
          provide: ApiClient,
          inject: [WriteFence],
          useFactory: (fence: WriteFence) =>
            new ApiClient(config.connection, {
              userAgent: `wake-scheduler/${config.schedulerName ?? 'default-scheduler'}`,
              fence: () => fence.current(),
              maxInFlight: 256,
            }),
        },
        { provide: NATS, useFactory: () => connect({ servers: config.natsUrl, maxReconnectAttempts: -1 }) },
        SchedulerRuntime,
        connectionsClosedLast(NATS),
      ],
      exports: [SchedulerRuntime],
    };
  }
}
