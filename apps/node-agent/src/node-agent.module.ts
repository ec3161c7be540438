import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

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
import Docker from 'dockerode';

import { KUBERNETES_VERSION } from '@app/api';
import { componentRegistry, Gauge, type MetricsServer, type Registry, serveMetrics } from '@app/metrics';
import { ApiClient, type ApiConnection, connectionsClosedLast, resourcePath } from '@app/client';
import { type EventStreamOptions } from '@app/bus';
import { engineAnswers, ensureLocalImages } from '@app/dev-servers';

import { API_FORWARDER_CONFIG, type ApiEndpoint, ApiServerForwarder } from './api-access/index.js';
import {
  ApiObjectSource,
  ApiTokenSource,
  CONTAINER_CONFIGURER,
  type ContainerConfigurer,
  DEFAULT_CLUSTER_DOMAIN,
  OBJECT_SOURCE,
  POD_CONFIGURER_OPTIONS,
  PodConfigurer,
  type PodConfigurerOptions,
  readHostResolvConf,
  TOKEN_SOURCE,
} from './config/index.js';
import {
  detectNodeFacts,
  NodeHeartbeat,
  NodeLeaseRenewer,
  type NodeRegistration,
  NodeStatusReporter,
} from './node/index.js';
import { KubeletProbeManager, PROBE_MANAGER, type ProbeManager } from './probes/index.js';
import { DOCKER_CLIENT, DockerRuntime, RUNTIME_CONFIG, type RuntimeConfig } from './runtime/index.js';
import { serveNodeStreams } from './streams/index.js';
import { PodManager, type PodManagerOptions } from './pods/index.js';

export interface NodeAgentConfig {
  connection: ApiConnection;
  natsUrl: string;
  stream?: EventStreamOptions;
  nodeName: string;
  /**
   * Labels every container this agent makes, so agents of different clusters sharing one
   * engine never touch each other's. Default: the uid of the cluster's kube-system namespace.
   */
  clusterId?: string;
  /** Where pods' volumes and files live (default <dataDir>/pods). */
  dataDir: string;
  /** The engine's socket (default /var/run/docker.sock). */
  dockerSocket?: string;
  /** The sandbox image; default: Wake's pause image, built locally when missing. */
  pauseImage?: string;
  /**
   * The container this agent runs in, when it runs in one beside its pods: its namespaces are
   * the node's (host-network, hostPID and hostIPC pods join them). `self`: this process's own
   * container, by its hostname (the engine's default: its short id).
   */
  nodeContainer?: string;
  registration?: Omit<NodeRegistration, 'nodeName'>;
  maxPods?: number;
  cpu?: string;
  memory?: string;
  nodeIP?: string;
  /** --cluster-dns: what ClusterFirst pods use as nameservers (default none: they fall back to Default). */
  clusterDNS?: string[];
  /** --cluster-domain (default cluster.local). */
  clusterDomain?: string;
  /** --resolv-conf: the host resolver configuration pods inherit (default /etc/resolv.conf). */
  resolvConf?: string;
  leaseDurationSeconds?: number;
  /**
   * Run the forwarder through which pods reach the API server on the Docker bridge's gateway
   * (default true). Off where the agent cannot listen there, e.g. in a container of its own,
   * and wherever a service proxy (apps/proxy) serves the `kubernetes` Service: pods then get
   * its ClusterIP and 443, as upstream (`wake up` runs one and turns this off).
   */
  podApiForwarder?: boolean;
  /** Container restart and image pull backoff (10 s doubling to 300 s, reset after 10 min). */
  backoff?: PodManagerOptions['backoff'];
  /** How often every pod is synced without news (default 10 s). */
  podResyncMs?: number;
  /** Serve /healthz, /livez, /readyz and /metrics on 127.0.0.1 at this port (0: any free port; absent: not served). */
  healthzPort?: number;
  leaseRenewMs?: number;
  statusSyncMs?: number;
  statusReportMs?: number;
}

export const NODE_AGENT_CONFIG = Symbol('NodeAgentConfig');
export const NATS = Symbol('NatsConnection');
/** Where pods reach the API server (the forwarder's address), or null when they are not given one. */
const POD_API_ENDPOINT = Symbol('PodApiEndpoint');

/**
 * The node agent process: registers its Node, keeps its Lease and status, and runs the pods
 * bound to it on the container engine.
 */
@Injectable()
export class NodeAgent implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('node-agent');
  private heartbeat?: NodeHeartbeat;
  private streams?: { close(): void };
  private pods?: PodManager;
  private metricsServer?: MetricsServer;
  readonly status: NodeStatusReporter;
  readonly lease: NodeLeaseRenewer;

  constructor(
    @Inject(NODE_AGENT_CONFIG) private readonly config: NodeAgentConfig,
    @Inject(ApiClient) private readonly api: ApiClient,
    @Inject(DOCKER_CLIENT) docker: Docker,
    @Inject(NATS) readonly nats: NatsConnection,
    @Inject(DockerRuntime) readonly runtime: DockerRuntime,
    @Inject(CONTAINER_CONFIGURER) readonly configurer: ContainerConfigurer,
    @Inject(PROBE_MANAGER) readonly probes: ProbeManager,
    @Inject(RUNTIME_CONFIG) private readonly runtimeConfig: RuntimeConfig,
  ) {
    const version = this.apiVersion();
    this.status = new NodeStatusReporter(api, {
      registration: { nodeName: config.nodeName, ...config.registration },
      facts: async () =>
        detectNodeFacts(docker, {
          nodeName: config.nodeName,
          dataDir: config.dataDir,
          maxPods: config.maxPods,
          cpu: config.cpu,
          memory: config.memory,
          nodeIP: config.nodeIP,
          version: await version,
          images: () => runtime.images.list(),
        }),
      health: async () => ({ runtimeUp: await engineAnswers(docker) }),
      reportEveryMs: config.statusReportMs,
    });
    this.lease = new NodeLeaseRenewer(api, {
      nodeName: config.nodeName,
      leaseDurationSeconds: config.leaseDurationSeconds,
      nodeUid: () => this.status.nodeUid,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // The data directory exists: the pod configurer's options provider made it.
    const node = await this.status.register();
    this.heartbeat = new NodeHeartbeat(this.lease, this.status, {
      leaseRenewMs: this.config.leaseRenewMs,
      statusSyncMs: this.config.statusSyncMs,
      onTrouble: (what, e) => this.logger.warn(`${what} failed: ${e.message}`),
    });
    this.heartbeat.start();
    this.pods = new PodManager(this.api, this.nats, this.runtime, this.configurer, this.probes, {
      nodeName: this.config.nodeName,
      clusterId: this.runtimeConfig.clusterId,
      hostIP: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
      backoff: this.config.backoff,
      resyncMs: this.config.podResyncMs,
      stream: this.config.stream,
      dns: {
        clusterDNS: this.config.clusterDNS ?? [],
        clusterDomain: this.config.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
        host: await readHostResolvConf(this.config.resolvConf),
      },
    });
    // Adopts what the engine already runs for this node before syncing anything.
    await this.pods.start();
    // Logs, exec and attach for kubectl, relayed by the API server over NATS.
    this.streams = serveNodeStreams(this.nats, this.config.nodeName, this.runtime);
    if (this.config.healthzPort !== undefined)
      this.metricsServer = await serveMetrics(this.metricsRegistry(), this.config.healthzPort);
    this.logger.log(`node ${this.config.nodeName} registered`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Like the kubelet, an agent that stops leaves its pods running: a restarted agent adopts them.
    this.streams?.close();
    await this.metricsServer?.close();
    await this.pods?.stop();
    await this.heartbeat?.stop();
    this.probes.stop();
  }

  /** Where /healthz and /metrics are served, when they are. */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /** The kubelet's own metric names where they exist, read at scrape time. */
  private metricsRegistry(): Registry {
    const registry = componentRegistry();
    const nodeName = this.config.nodeName;
    const pods = () => this.pods;
    new Gauge({
      name: 'kubelet_node_name',
      help: "The node's name. The count is always 1.",
      labelNames: ['node'],
      registers: [registry],
      collect() {
        this.set({ node: nodeName }, 1);
      },
    });
    new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods bound to this node, by phase.',
      labelNames: ['phase'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [phase, n] of pods()?.podsByPhase() ?? []) this.set({ phase }, n);
      },
    });
    return registry;
  }

  private async apiVersion(): Promise<string> {
    try {
      return (await this.api.call<{ gitVersion: string }>('GET', '/version')).gitVersion;
    } catch {
      return 'v0.0.0-unknown';
    }
  }
}

/** The cluster's identity for container labels: the kube-system namespace's uid, stable for the cluster's life. */
async function clusterIdentity(api: ApiClient): Promise<string> {
  const ns = await api.get(`${resourcePath({ group: '', version: 'v1', plural: 'namespaces' })}/kube-system`);
  return ns.metadata.uid as string;
}

@Module({})
export class NodeAgentModule {
  static forRoot(config: NodeAgentConfig): DynamicModule {
    return {
      module: NodeAgentModule,
      providers: [
        { provide: NODE_AGENT_CONFIG, useValue: config },
        {
          provide: ApiClient,
          useFactory: () =>
            new ApiClient(config.connection, {
              userAgent: `wake-node-agent/${config.nodeName}`,
              maxInFlight: 32,
            }),
        },
        { provide: NATS, useFactory: () => connect({ servers: config.natsUrl, maxReconnectAttempts: -1 }) },
        {
          provide: DOCKER_CLIENT,
          useFactory: () => new Docker({ socketPath: config.dockerSocket ?? '/var/run/docker.sock' }),
        },
        {
          provide: RUNTIME_CONFIG,
          inject: [ApiClient, DOCKER_CLIENT],
          useFactory: async (api: ApiClient, docker: Docker): Promise<RuntimeConfig> => {
            if (!(await engineAnswers(docker)))
              throw new Error(
                `no container engine answers on ${config.dockerSocket ?? '/var/run/docker.sock'}: start dockerd first`,
              );
            return {
              clusterId: config.clusterId ?? (await clusterIdentity(api)),
              pauseImage: config.pauseImage ?? (await ensureLocalImages(docker)).pause,
              ...(config.nodeContainer
                ? { nodeContainer: config.nodeContainer === 'self' ? hostname() : config.nodeContainer }
                : {}),
            };
          },
        },
        DockerRuntime,
        { provide: API_FORWARDER_CONFIG, useValue: { server: config.connection.server } },
        ApiServerForwarder,
        {
          provide: POD_API_ENDPOINT,
          inject: [ApiServerForwarder],
          useFactory: async (forwarder: ApiServerForwarder): Promise<ApiEndpoint | null> => {
            if (config.podApiForwarder === false) return null;
            try {
              return await forwarder.start();
            } catch (e) {
              // The cluster still runs; only pods that call the API lose their way to it.
              new Logger('node-agent').warn(
                `pods cannot be given a way to the API server: the forwarder could not listen (${(e as Error).message}); ` +
                  'their KUBERNETES_SERVICE_* name the kubernetes Service, which needs the service proxy',
              );
              return null;
            }
          },
        },
        {
          provide: OBJECT_SOURCE,
          inject: [ApiClient],
          useFactory: (api: ApiClient) => new ApiObjectSource(api),
        },
        {
          provide: TOKEN_SOURCE,
          inject: [ApiClient],
          useFactory: (api: ApiClient) => new ApiTokenSource(api),
        },
        {
          provide: POD_CONFIGURER_OPTIONS,
          inject: [DOCKER_CLIENT, POD_API_ENDPOINT],
          useFactory: async (docker: Docker, endpoint: ApiEndpoint | null): Promise<PodConfigurerOptions> => {
            await mkdir(config.dataDir, { recursive: true });
            const facts = await detectNodeFacts(docker, { ...config, version: '' });
            return {
              podsDir: join(config.dataDir, 'pods'),
              nodeAllocatable: facts.allocatable,
              hostIPs: facts.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address),
              // Until the service proxy serves the `kubernetes` ClusterIP, pods reach the API here.
              ...(endpoint ? { kubernetesEndpoint: endpoint } : {}),
            };
          },
        },
        { provide: CONTAINER_CONFIGURER, useClass: PodConfigurer },
        {
          provide: PROBE_MANAGER,
          inject: [DockerRuntime],
          useFactory: (runtime: DockerRuntime) =>
            new KubeletProbeManager(runtime, { kubernetesVersion: KUBERNETES_VERSION }),
        },
        NodeAgent,
        connectionsClosedLast(NATS),
      ],
      exports: [NodeAgent],
    };
  }
}
