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
  byLabel,
  byNamespace,
  byNode,
  byOwner,
  connectionsClosedLast,
  EventRecorder,
  ExponentialBackoff,
  type RateLimiter,
  type Informer,
  type InformerResource,
  LeaderElector,
  leaseRequestTimeoutMs,
  MaxOf,
  SharedInformers,
  TokenBucket,
} from '@app/client';
import { ResourceRegistry } from '@app/api';
import { type EventStreamOptions } from '@app/bus';
import { type StoredObject } from '@app/event-store';
import { componentRegistry, Gauge, type MetricsServer, serveMetrics, workQueueMetrics } from '@app/metrics';

import {
  type ClusterRole,
  ClusterRoleAggregationController,
  CLUSTER_ROLES,
} from './clusterrole-aggregation/clusterrole-aggregation-controller.js';
import { DaemonSetController } from './daemonset/daemonset-controller.js';
import { type DaemonSet, type Node as DaemonSetNode, NODES } from './daemonset/daemonset-types.js';
import { CONTROLLER_REVISIONS, type ControllerRevision } from './history/controller-revision.js';
import { CronJobController, type CronJob, CRONJOBS } from './cronjob/cronjob-controller.js';
import { TtlAfterFinishedController } from './ttl-after-finished/ttl-after-finished-controller.js';
import { JobController } from './job/job-controller.js';
import { type Job, JOBS } from './job/job-types.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { EndpointsController } from './endpoints/endpoints-controller.js';
import { type Endpoints } from './endpoints/desired-endpoints.js';
import { ENDPOINTS, type Node as EndpointsNode, type Service, SERVICES } from './endpoints/service-types.js';
import { EndpointSliceController } from './endpointslice/endpointslice-controller.js';
import { ENDPOINT_SLICES, type EndpointSlice } from './endpointslice/slice-types.js';
import { type Deployment, type ReplicaSet } from './deployment/deployment-types.js';
import { GarbageCollector } from './garbage-collector/garbage-collector.js';
import { type Controller } from './controller.js';
import { NamespaceController } from './namespace/namespace-controller.js';
import {
  NodeLifecycleController,
  type NodeLifecycleSettings,
} from './node-lifecycle/node-lifecycle-controller.js';
import { type Node, type NodeLease } from './node-lifecycle/node-types.js';
import { TaintEvictionController } from './taint-eviction/taint-eviction-controller.js';
import { type Namespace, NAMESPACES } from './namespace/namespace-types.js';
import { NamespacedResourcesDeleter } from './namespace/namespaced-resources-deleter.js';
import { RootCaCertPublisher } from './root-ca-cert-publisher/root-ca-cert-publisher.js';
import { ServiceAccountsController } from './serviceaccount/serviceaccounts-controller.js';
import { type GcNode } from './podgc/gc-selection.js';
import { PodGc } from './podgc/pod-gc.js';
import { volumeControllers } from './volume/volume-controllers.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { type LbNode, type LbService } from './service-lb/lb-status.js';
import { ServiceLbController } from './service-lb/service-lb-controller.js';
import {
  CLAIMS,
  type PersistentVolumeClaim,
  STATEFUL_SET,
  type StatefulSet,
} from './statefulset/statefulset-types.js';
import { type Pod } from './replicaset/pod-types.js';
import { ReplicaController } from './replicaset/replica-controller.js';
import {
  REPLICA_SET,
  REPLICATION_CONTROLLER,
  type ReplicaKind,
  type ReplicaOwner,
} from './replicaset/replica-kind.js';

/** The controllers this manager knows, by their `--controllers` names. */
export const KNOWN_CONTROLLERS = [
  'replicaset',
  'replicationcontroller',
  'garbage-collector',
  'pod-garbage-collector',
  'deployment',
  'daemonset',
  'namespace',
  'serviceaccount',
  'root-ca-cert-publisher',
  'clusterrole-aggregation',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'persistentvolume-binder',
  'local-path-provisioner',
  'statefulset',
  'endpoint',
  'endpointslice',
  'job',
  'cronjob',
  'ttl-after-finished-controller',
  'service-lb',
] as const;

export interface ControllerManagerConfig {
  connection: ApiConnection;
  natsUrl: string;
  stream?: EventStreamOptions;
  identity?: string;
  /** Elect a leader on the kube-system/kube-controller-manager Lease (default on). */
  leaderElect?: boolean;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** upstream's --controllers: names, `*` for all, `-name` to disable one (default `*`). */
  controllers?: string[];
  /** --concurrent-replicaset-syncs (upstream default 5); ReplicationControllers use the same. */
  concurrentReplicaSetSyncs?: number;
  /** --concurrent-gc-syncs (upstream default 20). */
  concurrentGcSyncs?: number;
  /** --concurrent-endpoint-syncs (upstream default 5). */
  concurrentEndpointSyncs?: number;
  /** --concurrent-service-endpoint-syncs: the EndpointSlice controller's workers (upstream default 5). */
  concurrentServiceEndpointSyncs?: number;
  /** --max-endpoints-per-slice (upstream default 100). */
  maxEndpointsPerSlice?: number;
  /** --endpoint-updates-batch-period and --endpointslice-updates-batch-period, ms (default 0). */
  endpointUpdatesBatchPeriodMs?: number;
  /** How long after a slice change its Service is synced (upstream: 1 s; tests shorten it). */
  endpointSliceChangeDelayMs?: number;
  /** Told each EndpointSlice write (tests count churn). */
  onEndpointSliceWrite?: (verb: 'create' | 'update' | 'delete', slice: EndpointSlice) => void;
  /** --concurrent-job-syncs (upstream default 5). */
  concurrentJobSyncs?: number;
  /** --concurrent-cron-job-syncs (upstream default 5). */
  concurrentCronJobSyncs?: number;
  /** --concurrent-ttl-after-finished-syncs (upstream default 5). */
  concurrentTtlAfterFinishedSyncs?: number;
  /** The clock CronJob schedules are read against (tests move it; default Date.now). */
  cronJobClock?: () => number;
  /** The Job pod failure back-off [base, max] ms (upstream 10 s, 10 min; tests shorten it). */
  jobPodFailureBackoffMs?: [number, number];
  /** --concurrent-deployment-syncs (upstream default 5). */
  concurrentDeploymentSyncs?: number;
  /** --concurrent-statefulset-syncs (upstream default 5). */
  concurrentStatefulSetSyncs?: number;
  /** --concurrent-daemonset-syncs (upstream default 2). */
  concurrentDaemonSetSyncs?: number;
  /** --concurrent-namespace-syncs (upstream default 10). */
  concurrentNamespaceSyncs?: number;
  /** How long after its deletion a namespace is first emptied (upstream: 5 s; tests shorten it). */
  namespaceDeletionGracePeriodMs?: number;
  /** The wait for content held by finalizers before a namespace is looked at again (upstream: 15 s). */
  namespaceFinalizerEstimateSeconds?: number;
  /** The CA bundle root-ca-cert-publisher publishes (--root-ca-file); default: the connection's CA. */
  rootCa?: string;
  /** Where the local-path provisioner puts volumes on their node (--local-path-base-dir). */
  localPathBaseDir?: string;
  /** --pvclaimbinder-sync-period (upstream: 15 s). */
  pvResyncMs?: number;
  /** Per-item backoff of the work queues, [base, max] ms (client-go: 5 ms → 1000 s). */
  backoffMs?: [number, number];
  burstReplicas?: number;
  /** --terminated-pod-gc-threshold (upstream default 12500; 0 disables that sweep). */
  terminatedPodGcThreshold?: number;
  /** PodGC's gcCheckPeriod and node quarantineTime (upstream 20 s, 40 s; short in tests). */
  podGcPeriodMs?: number;
  podGcQuarantineMs?: number;
  onLostLeadership?: () => void;
  /** Told the size of each create batch (tests count slow-start batches). */
  onCreateBatch?: (controller: string, key: string, size: number) => void;
  /** Serve /metrics and /healthz on this loopback port (0: any free port; absent: not served). */
  metricsPort?: number;
  /** --node-monitor-period, --node-monitor-grace-period, --node-eviction-rate... (upstream's defaults). */
  nodeLifecycle?: Partial<NodeLifecycleSettings>;
}

export const CONTROLLER_MANAGER_CONFIG = Symbol('ControllerManagerConfig');
export const NATS = Symbol('NatsConnection');

export class WriteFence {
  current: () => string | null | undefined = () => undefined;
}

/** As kube-controller-manager: a misspelt `--controllers` name is an error, not a controller silently off. */
export function checkControllerFlags(flags: readonly string[]): void {
  const known: readonly string[] = KNOWN_CONTROLLERS;
  const unknown = flags.filter((f) => f !== '*' && !known.includes(f.replace(/^-/, '')));
  if (unknown.length)
    throw new Error(`--controllers: ${unknown.join(', ')} not known; known: ${KNOWN_CONTROLLERS.join(', ')}`);
}

/** upstream's IsControllerEnabled: `*` enables all, `-x` disables x, `x` enables x. */
export function controllerEnabled(name: string, flags: readonly string[]): boolean {
  let star = false;
  for (const f of flags) {
    if (f === name) return true;
    if (f === `-${name}`) return false;
    if (f === '*') star = true;
  }
  return star;
}

/**
 * The controller-manager process: shared informers (running whether or not this replica
 * leads, so a new leader starts warm) and, while leading, the enabled controllers. Every
 * write is fenced by the lease, so a replica that lost it cannot create or delete anything.
 */
@Injectable()
export class ControllerManagerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('controller-manager');
  readonly identity: string;
  readonly pods: Informer<Pod>;
  private readonly shared: SharedInformers;
  readonly controllers: Controller[] = [];
  readonly recorders: EventRecorder[] = [];
  readonly elector?: LeaderElector;
  private readonly leaseClient?: ApiClient;
  private electing?: Promise<void>;
  private running = false;
  /** kube-controller-manager's metrics: the work queues', leader election's, the process's. */
  readonly metrics = componentRegistry();
  private readonly queueMetrics = workQueueMetrics(this.metrics);
  private metricsServer?: MetricsServer;

  constructor(
    @Inject(CONTROLLER_MANAGER_CONFIG) private readonly config: ControllerManagerConfig,
    @Inject(ApiClient) private readonly api: ApiClient,
    @Inject(NATS) nats: NatsConnection,
    @Inject(WriteFence) fence: WriteFence,
  ) {
    this.identity = config.identity ?? `${hostname()}_${randomUUID()}`;
    this.shared = new SharedInformers({
      api,
      nats,
      stream: config.stream,
      onTrouble: (what, e) => this.logger.warn(`${what}: ${e.message}`),
    });
    const flags = config.controllers ?? ['*'];
    const leaseName = config.leaseName ?? 'kube-controller-manager';
    checkControllerFlags(flags);
    this.pods = this.informer<Pod>({ group: '', version: 'v1', plural: 'pods' });
    for (const kind of [REPLICA_SET, REPLICATION_CONTROLLER])
      if (controllerEnabled(kind.controller, flags)) this.controllers.push(this.replicaController(kind));
    if (controllerEnabled('garbage-collector', flags))
      this.controllers.push(
        new GarbageCollector(api, nats, new ResourceRegistry(), {
          workers: config.concurrentGcSyncs,
          backoffMs: config.backoffMs,
          onTrouble: (e) => this.logger.warn(`garbage collector: ${e.message}`),
          informerFor: (resource) => this.informer(resource),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('pod-garbage-collector', flags))
      this.controllers.push(
        new PodGc({
          api,
          pods: this.pods,
          nodes: this.informer<GcNode>({ group: '', version: 'v1', plural: 'nodes' }),
          terminatedPodThreshold: config.terminatedPodGcThreshold,
          periodMs: config.podGcPeriodMs,
          quarantineMs: config.podGcQuarantineMs,
          onTrouble: (e) => this.logger.warn(`pod-garbage-collector: ${e.message}`),
        }),
      );
    if (controllerEnabled('deployment', flags)) this.controllers.push(this.deploymentController());
    if (controllerEnabled('daemonset', flags)) this.controllers.push(this.daemonSetController());
    this.controllers.push(...this.namespaceControllers(flags));
    this.controllers.push(...this.nodeControllers(flags));
    this.controllers.push(...this.volumeControllers(flags));
    if (controllerEnabled('statefulset', flags)) this.controllers.push(this.statefulSetController());
    this.controllers.push(...this.endpointsControllers(flags));
    this.controllers.push(...this.batchControllers(flags));
    // k3s' servicelb: LoadBalancer Services report the nodes' addresses.
    if (controllerEnabled('service-lb', flags))
      this.controllers.push(
        new ServiceLbController({
          api,
          services: this.informer<LbService>(SERVICES),
          nodes: this.informer<LbNode>(NODES),
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('service-lb'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (config.leaderElect !== false)
      this.leaseClient = new ApiClient(config.connection, {
        userAgent: 'wake-controller-manager/leader-election',
        maxInFlight: 2,
        timeoutMs: leaseRequestTimeoutMs(config.renewDeadlineMs),
      });
    if (this.leaseClient)
      this.elector = new LeaderElector({
        api: this.leaseClient,
        namespace: 'kube-system',
        name: leaseName,
        identity: this.identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        onStartedLeading: (f) => {
          this.logger.log(`leading (${f})`);
          this.startControllers();
        },
        onStoppedLeading: () => {
          this.logger.warn('lost the lease: controllers stop');
          void this.stopControllers();
          config.onLostLeadership?.();
        },
        onTrouble: (e) => this.logger.warn(`leader election: ${e.message}`),
      });
    // Electing but not leading: writes are refused before they are sent (a deposed leader's
    // syncs still in flight must not write unfenced while the new leader acts).
    fence.current = () => (this.elector ? (this.elector.fence ?? null) : undefined);
    const leading = () => this.running;
    new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'],
      registers: [this.metrics],
      collect() {
        this.set({ name: leaseName }, leading() ? 1 : 0);
      },
    });
  }

  /** Where /metrics and /healthz are served, when they are. */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /** A shared informer per resource: controllers asking for the same kind share one. */
  informer<T extends StoredObject>(resource: InformerResource): Informer<T> {
    const pods = resource.group === '' && resource.plural === 'pods';
    // Pods also by node (the node lifecycle and taint eviction controllers look up a node's
    // pods) and by label (a ReplicaSet's or Service's sync looks up its own pods, not the namespace's).
    return this.shared.informer<T>(resource, {
      namespace: byNamespace,
      owner: byOwner,
      ...(pods ? { node: byNode, label: byLabel } : {}),
    });
  }

  /** An event recorder for `component`, flushed when the manager stops. */
  private recorder(component: string): EventRecorder {
    const events = new EventRecorder(this.api, {
      component,
      instance: this.identity,
      onTrouble: (e) => this.logger.warn(`${component} event: ${e.message}`),
    });
    this.recorders.push(events);
    return events;
  }

  /**
   * client-go's DefaultControllerRateLimiter: per-item exponential backoff (this manager's
   * --backoff, 5 ms → 1000 s by default; a controller may start higher or stop lower) under an
   * overall token bucket.
   */
  private rateLimiter(o: { baseMs?: number; maxMs?: number } = {}): RateLimiter<string> {
    const [base, max] = this.config.backoffMs ?? [o.baseMs ?? 5, 1_000_000];
    return new MaxOf<string>(
      new ExponentialBackoff<string>(base, Math.min(max, o.maxMs ?? max)),
      new TokenBucket(10, 100),
    );
  }

  /** Where a controller's retried failures are told. */
  private trouble(name: string): (e: Error, key?: string) => void {
    return (e, key) => this.logger.warn(`${name} ${key ?? ''}: ${e.message}`);
  }

  private replicaController(kind: ReplicaKind): ReplicaController {
    const events = this.recorder(kind.component);
    return new ReplicaController({
      kind,
      api: this.api,
      owners: this.informer<ReplicaOwner>(kind.resource),
      pods: this.pods,
      events,
      workers: this.config.concurrentReplicaSetSyncs ?? 5,
      burstReplicas: this.config.burstReplicas,
      // client-go's DefaultControllerRateLimiter: per-item exponential backoff, overall bucket.
      rateLimiter: this.rateLimiter(),
      onTrouble: (e, key) => this.logger.warn(`${kind.controller} ${key ?? ''}: ${e.message}`),
      onCreateBatch: (key, size) => this.config.onCreateBatch?.(kind.controller, key, size),
      queueMetrics: this.queueMetrics,
    });
  }

  private deploymentController(): DeploymentController {
    const events = this.recorder('deployment-controller');
    return new DeploymentController({
      api: this.api,
      deployments: this.informer<Deployment>({ group: 'apps', version: 'v1', plural: 'deployments' }),
      replicaSets: this.informer<ReplicaSet>(REPLICA_SET.resource),
      pods: this.pods,
      events,
      workers: this.config.concurrentDeploymentSyncs ?? 5,
      rateLimiter: this.rateLimiter(),
      onTrouble: (e, key) => this.logger.warn(`deployment ${key ?? ''}: ${e.message}`),
      queueMetrics: this.queueMetrics,
    });
  }

  private statefulSetController(): StatefulSetController {
    const events = this.recorder('statefulset-controller');
    return new StatefulSetController({
      api: this.api,
      sets: this.informer<StatefulSet>(STATEFUL_SET.resource),
      pods: this.pods,
      revisions: this.informer<ControllerRevision>(CONTROLLER_REVISIONS),
      claims: this.informer<PersistentVolumeClaim>(CLAIMS),
      events,
      workers: this.config.concurrentStatefulSetSyncs ?? 5,
      rateLimiter: this.rateLimiter(),
      onTrouble: (e, key) => this.logger.warn(`statefulset ${key ?? ''}: ${e.message}`),
      queueMetrics: this.queueMetrics,
    });
  }

  private daemonSetController(): DaemonSetController {
    const events = this.recorder('daemonset-controller');
    return new DaemonSetController({
      api: this.api,
      daemonSets: this.informer<DaemonSet>({ group: 'apps', version: 'v1', plural: 'daemonsets' }),
      pods: this.pods,
      nodes: this.informer<DaemonSetNode>(NODES),
      revisions: this.informer<ControllerRevision>(CONTROLLER_REVISIONS),
      events,
      workers: this.config.concurrentDaemonSetSyncs ?? 2,
      burstReplicas: this.config.burstReplicas,
      rateLimiter: this.rateLimiter(),
      onTrouble: (e, key) => this.logger.warn(`daemonset ${key ?? ''}: ${e.message}`),
      queueMetrics: this.queueMetrics,
    });
  }

  /** The namespace, service-account and root-CA controllers: what keeps namespaces filled and emptied. */
  private namespaceControllers(flags: readonly string[]): Controller[] {
    const out: Controller[] = [];
    if (controllerEnabled('namespace', flags))
      out.push(
        new NamespaceController({
          namespaces: this.informer<Namespace>(NAMESPACES),
          deleter: new NamespacedResourcesDeleter({
            api: this.api,
            finalizerEstimateSeconds: this.config.namespaceFinalizerEstimateSeconds,
            onTrouble: this.trouble('namespace status'),
          }),
          workers: this.config.concurrentNamespaceSyncs ?? 10,
          deletionGracePeriodMs: this.config.namespaceDeletionGracePeriodMs,
          // nsControllerRateLimiter: retried at least every minute.
          rateLimiter: this.rateLimiter({ maxMs: 60_000 }),
          onTrouble: this.trouble('namespace'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('serviceaccount', flags))
      out.push(
        new ServiceAccountsController({
          api: this.api,
          namespaces: this.informer<Namespace>(NAMESPACES),
          serviceAccounts: this.informer({ group: '', version: 'v1', plural: 'serviceaccounts' }),
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('serviceaccount'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('root-ca-cert-publisher', flags))
      out.push(
        new RootCaCertPublisher({
          api: this.api,
          namespaces: this.informer<Namespace>(NAMESPACES),
          configMaps: this.informer({ group: '', version: 'v1', plural: 'configmaps' }),
          rootCa: this.config.rootCa ?? this.config.connection.caCert,
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('root-ca-cert-publisher'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('clusterrole-aggregation', flags))
      out.push(
        new ClusterRoleAggregationController({
          api: this.api,
          clusterRoles: this.informer<ClusterRole>(CLUSTER_ROLES),
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('clusterrole-aggregation'),
          queueMetrics: this.queueMetrics,
        }),
      );
    return out;
  }

  /** The node lifecycle and taint eviction controllers: nodes' health, their NoExecute taints, and the evictions they cause. */
  private nodeControllers(flags: readonly string[]): Controller[] {
    const out: Controller[] = [];
    const nodes = () => this.informer<Node>({ group: '', version: 'v1', plural: 'nodes' });
    if (controllerEnabled('node-lifecycle-controller', flags))
      out.push(
        new NodeLifecycleController({
          api: this.api,
          nodes: nodes(),
          leases: this.informer<NodeLease>({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }),
          pods: this.pods,
          // Upstream's node lifecycle controller records as "node-controller".
          events: this.recorder('node-controller'),
          settings: this.config.nodeLifecycle,
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('node-lifecycle-controller'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('taint-eviction-controller', flags))
      out.push(
        new TaintEvictionController({
          api: this.api,
          nodes: nodes(),
          pods: this.pods,
          events: this.recorder('taint-eviction-controller'),
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('taint-eviction-controller'),
          queueMetrics: this.queueMetrics,
        }),
      );
    return out;
  }

  /** The PersistentVolume binder and the local-path provisioner. */
  private volumeControllers(flags: readonly string[]): Controller[] {
    return volumeControllers({
      enabled: (name) => controllerEnabled(name, flags),
      api: this.api,
      identity: this.identity,
      informer: (r) => this.informer(r),
      pods: this.pods,
      recorder: (component) => this.recorder(component),
      rateLimiter: () => this.rateLimiter(),
      localPathBaseDir: this.config.localPathBaseDir,
      pvResyncMs: this.config.pvResyncMs,
      onTrouble: (name) => this.trouble(name),
      queueMetrics: this.queueMetrics,
    });
  }

  /** The Endpoints and EndpointSlice controllers: what a Service's selector picks, as addresses. */
  private endpointsControllers(flags: readonly string[]): Controller[] {
    const out: Controller[] = [];
    const services = () => this.informer<Service>(SERVICES);
    if (controllerEnabled('endpoint', flags)) {
      out.push(
        new EndpointsController({
          api: this.api,
          services: services(),
          pods: this.pods,
          endpoints: this.informer<Endpoints>(ENDPOINTS),
          events: this.recorder('endpoint-controller'),
          workers: this.config.concurrentEndpointSyncs ?? 5,
          batchPeriodMs: this.config.endpointUpdatesBatchPeriodMs,
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('endpoint'),
          queueMetrics: this.queueMetrics,
        }),
      );
    }
    if (controllerEnabled('endpointslice', flags)) {
      out.push(
        new EndpointSliceController({
          api: this.api,
          services: services(),
          pods: this.pods,
          nodes: this.informer<EndpointsNode>(NODES),
          slices: this.informer<EndpointSlice>(ENDPOINT_SLICES),
          events: this.recorder('endpoint-slice-controller'),
          workers: this.config.concurrentServiceEndpointSyncs ?? 5,
          maxEndpointsPerSlice: this.config.maxEndpointsPerSlice,
          batchPeriodMs: this.config.endpointUpdatesBatchPeriodMs,
          sliceChangeDelayMs: this.config.endpointSliceChangeDelayMs,
          // Upstream backs this queue off from 1 s (defaultSyncBackOff), not 5 ms: its syncs are heavy.
          rateLimiter: this.rateLimiter({ baseMs: 1000 }),
          onTrouble: this.trouble('endpointslice'),
          queueMetrics: this.queueMetrics,
          onSliceWrite: this.config.onEndpointSliceWrite,
        }),
      );
    }
    return out;
  }

  /** The Job, CronJob and TTL-after-finished controllers. */
  private batchControllers(flags: readonly string[]): Controller[] {
    const out: Controller[] = [];
    const jobs = () => this.informer<Job>(JOBS);
    if (controllerEnabled('job', flags))
      out.push(
        new JobController({
          api: this.api,
          jobs: jobs(),
          pods: this.pods,
          events: this.recorder('job-controller'),
          workers: this.config.concurrentJobSyncs ?? 5,
          rateLimiter: this.rateLimiter(),
          podFailureBackoffMs: this.config.jobPodFailureBackoffMs,
          onTrouble: this.trouble('job'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('cronjob', flags))
      out.push(
        new CronJobController({
          api: this.api,
          cronJobs: this.informer<CronJob>(CRONJOBS),
          jobs: jobs(),
          events: this.recorder('cronjob-controller'),
          workers: this.config.concurrentCronJobSyncs ?? 5,
          rateLimiter: this.rateLimiter(),
          now: this.config.cronJobClock,
          onTrouble: this.trouble('cronjob'),
          queueMetrics: this.queueMetrics,
        }),
      );
    if (controllerEnabled('ttl-after-finished-controller', flags))
      out.push(
        new TtlAfterFinishedController({
          api: this.api,
          jobs: jobs(),
          workers: this.config.concurrentTtlAfterFinishedSyncs ?? 5,
          rateLimiter: this.rateLimiter(),
          onTrouble: this.trouble('ttl-after-finished'),
          queueMetrics: this.queueMetrics,
        }),
      );
    return out;
  }

  get leading(): boolean {
    return this.running;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort !== undefined)
      this.metricsServer = await serveMetrics(this.metrics, this.config.metricsPort);
    await this.shared.start();
    if (this.elector) this.electing = this.elector.run();
    else this.startControllers();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopControllers();
    await this.elector?.stop();
    await this.electing;
    await this.shared.stop();
    await Promise.all(this.recorders.map((r) => r.flush()));
    this.leaseClient?.close();
    await this.metricsServer?.close();
  }

  private startControllers(): void {
    if (this.running) return;
    this.running = true;
    for (const c of this.controllers)
      void Promise.resolve(c.start()).catch((e: Error) =>
        // A controller that cannot start leaves the others running; the error says which and why.
        this.logger.error(`${c.name} did not start: ${e.message}`),
      );
  }

  private async stopControllers(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all(this.controllers.map((c) => c.stop()));
  }
}

@Module({})
export class ControllerManagerModule {
  static forRoot(config: ControllerManagerConfig): DynamicModule {
    return {
      module: ControllerManagerModule,
      providers: [
        { provide: CONTROLLER_MANAGER_CONFIG, useValue: config },
        WriteFence,
        {
          provide: ApiClient,
          inject: [WriteFence],
          useFactory: (fence: WriteFence) =>
            new ApiClient(config.connection, {
              userAgent: 'wake-controller-manager',
              fence: () => fence.current(),
              maxInFlight: 64,
            }),
        },
        { provide: NATS, useFactory: () => connect({ servers: config.natsUrl, maxReconnectAttempts: -1 }) },
        ControllerManagerRuntime,
        connectionsClosedLast(NATS),
      ],
      exports: [ControllerManagerRuntime],
    };
  }
}
