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
  bySliceService,
  connectionsClosedLast,
  type Informer,
  SharedInformers,
} from '@app/client';
import { type EventStreamOptions } from '@app/bus';
import { type MetricsServer, serveMetrics } from '@app/metrics';

import { type EndpointSlice, type Service } from './api-types.js';
import { type RunningClusterDns, startClusterDns, type UpstreamServer } from './dns/index.js';
import { type RunningIngressController, startIngressController } from './ingress/index.js';
import { HOST_NETWORK, type HostNetwork, ShellHostNetwork } from './netfilter/host-network.js';
import { interfaceAddress, PortalManager } from './netfilter/portal-manager.js';
import { Proxier, type ProxyMode } from './proxier.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { desiredServicePorts, type LocalBackends } from './service-ports.js';
import { SyncRunner } from './sync-runner.js';

export interface ProxyConfig {
  connection: ApiConnection;
  natsUrl: string;
  stream?: EventStreamOptions;
  /** This node (the Local traffic policies keep to its endpoints). Default: the host name. */
  nodeName?: string;
  /**
   * Names this instance's iptables chains (WAKE-PORTALS-CONTAINER-<ID>), 1-5 of [a-z0-9], so
   * several proxies (test clusters) share a host; a restart with the same id cleans up after
   * the previous one. Default none: the plain chain names.
   */
  instanceId?: string;
  /**
   * How pods' ClusterIP traffic is carried (upstream --proxy-mode): 'iptables' (default) DNATs it
   * in the kernel straight to an endpoint; 'userspace' through a proxy port, which retries
   * another endpoint when a dial fails. Host traffic and node ports are userspace in both.
   */
  mode?: ProxyMode;
  /** The bridge pods are on (default docker0): its address is where proxy ports listen. */
  bridge?: string;
  /** That address given directly (default: read from the bridge). */
  gateway?: string;
  /** The service range whose rest is refused (the API server's --service-cluster-ip-range); absent: nothing refused. */
  serviceCidr?: string;
  /** Addresses node ports listen on (upstream --nodeport-addresses; default 127.0.0.1). */
  nodePortAddresses?: string[];
  /**
   * How often the rules are checked and rewritten without news (upstream --sync-period), so a
   * flushed table or a failed restore heals. Default 30 s; 0: never.
   */
  resyncMs?: number;
  /** How long changes gather before a sync (default 0: the next turn of the event loop). */
  coalesceMs?: number;
  udpIdleTimeoutMs?: number;
  /** Serve /metrics and /healthz on this loopback port (0: any free port; absent: not served). */
  metricsPort?: number;
  /**
   * Serve the cluster DNS from this process (the CoreDNS role): it listens on loopback and the
   * `kube-system/kube-dns` Service's ports are routed to it. Absent: no DNS here.
   */
  clusterDns?: ClusterDnsConfig;
  /** Run the ingress controller in this process (the ingress-nginx role). Absent: none. */
  ingress?: IngressConfig;
}

export interface ClusterDnsConfig {
  /** Default cluster.local (node agents' --cluster-domain must agree). */
  clusterDomain?: string;
  /** Resolvers for other names; default the host's /etc/resolv.conf nameservers. */
  upstreams?: UpstreamServer[];
  /** The loopback port it listens on, UDP and TCP (default 0: a free one). */
  port?: number;
}

export interface IngressConfig {
  listen: { host: string; port: number };
  tlsListen?: { host: string; port: number };
  /** What `kubectl get ingress` shows as ADDRESS (default the listen host). */
  statusAddress?: string;
  /** The IngressClass spec.controller served (default wake.io/ingress). */
  controllerName?: string;
  /** The IngressClass created when none names the controller (default `wake`; '' for none). */
  ensureClass?: string;
}

/** The Service whose ports the in-process DNS server answers, and its port names (api-server bootstrap). */
const KUBE_DNS = 'kube-system/kube-dns';

export const PROXY_CONFIG = Symbol('ProxyConfig');
export const NATS = Symbol('NatsConnection');

const BY_SERVICE = 'service';

/**
 * The proxy process: informers on Services and EndpointSlices; every change recomputes the
 * desired service ports and applies them (listeners, balancer, portal rules) at once. The
 * cluster DNS and the ingress controller, when run here, read the same informers.
 */
@Injectable()
export class ProxyRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('proxy');
  private readonly informers: SharedInformers;
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly metrics = new ProxyMetrics();
  private metricsServer?: MetricsServer;
  private portalManager?: PortalManager;
  private proxierInstance?: Proxier;
  private runner?: SyncRunner;
  private localBackends: LocalBackends = {};
  /** The kube-dns Service's ports, routed to the in-process DNS server (kept apart from setLocalBackends'). */
  private dnsBackends: LocalBackends = {};
  private address?: string;
  private dns?: RunningClusterDns;
  private ingressController?: RunningIngressController;
  private resyncTimer?: NodeJS.Timeout;
  private repairNext = false;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    @Inject(ApiClient) api: ApiClient,
    @Inject(NATS) nats: NatsConnection,
    @Inject(HOST_NETWORK) private readonly net: HostNetwork,
  ) {
    this.informers = new SharedInformers({
      api,
      nats,
      stream: config.stream,
      onTrouble: (what, e) => this.logger.warn(`${what}: ${e.message}`),
    });
    this.services = this.informers.informer<Service>({ group: '', version: 'v1', plural: 'services' });
    this.slices = this.informers.informer<EndpointSlice>(
      { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
      { [BY_SERVICE]: bySliceService },
    );
  }

  get proxier(): Proxier {
    if (!this.proxierInstance) throw new Error('the proxy is not started');
    return this.proxierInstance;
  }

  get portals(): PortalManager {
    if (!this.portalManager) throw new Error('the proxy is not started');
    return this.portalManager;
  }

  /** The address proxy ports listen on (the bridge gateway): where pods reach this host. */
  get proxyAddress(): string {
    if (!this.address) throw new Error('the proxy is not started');
    return this.address;
  }

  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /** The in-process ingress controller's HTTP URL, when it runs. */
  get ingressUrl(): string | undefined {
    return this.ingressController?.url;
  }

  /**
   * Routes a Service's ports to listeners of this process (replacing earlier ones), e.g. the
   * in-process DNS server for `kube-system/kube-dns`; applied at once.
   */
  setLocalBackends(backends: LocalBackends): void {
    this.localBackends = backends;
    this.runner?.trigger();
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    const proxyAddress = c.gateway ?? (await interfaceAddress(this.net, c.bridge ?? 'docker0'));
    this.address = proxyAddress;
    const trouble = (what: string, e: Error) => this.logger.warn(`${what}: ${e.message}`);
    this.portalManager = new PortalManager(this.net, {
      instanceId: c.instanceId,
      proxyAddress,
      serviceCidr: c.serviceCidr,
      onTrouble: trouble,
    });
    this.proxierInstance = new Proxier(this.portalManager, {
      mode: c.mode,
      proxyAddress,
      nodePortAddresses: c.nodePortAddresses,
      udpIdleTimeoutMs: c.udpIdleTimeoutMs,
      events: this.metrics.socketEvents(trouble),
    });
    if (c.metricsPort !== undefined)
      this.metricsServer = await serveMetrics(this.metrics.registry, c.metricsPort);
    await this.portalManager.start();
    this.runner = new SyncRunner(() => this.syncOnce(), {
      coalesceMs: c.coalesceMs,
      onError: (e) => this.logger.error(`sync failed: ${e.message}`),
    });
    this.services.onChange(() => this.runner?.trigger());
    this.slices.onChange(() => this.runner?.trigger());
    await this.informers.start();
    // The first sync is done before the proxy says it is ready.
    await this.syncOnce();
    await this.startAddOns();
    const every = c.resyncMs ?? 30_000;
    if (every > 0)
      this.resyncTimer = setInterval(() => {
        this.repairNext = true;
        this.runner?.trigger();
      }, every);
    this.logger.log(
      `proxying in ${c.mode ?? 'iptables'} mode through ${proxyAddress} (chains ${this.portalManager.chains.container}, ${this.portalManager.chains.host})`,
    );
  }

  /**
   * The cluster DNS and the ingress controller, when configured: pieces of the node's service
   * plumbing that need no rules of their own (DNS is reached through the kube-dns Service's
   * ClusterIP, routed to its loopback listener like any local backend).
   */
  private async startAddOns(): Promise<void> {
    const c = this.config;
    const metrics = { registry: this.metrics.registry };
    if (c.clusterDns) {
      this.dns = await startClusterDns({
        informers: this.informers,
        listen: [{ host: '127.0.0.1', port: c.clusterDns.port ?? 0 }],
        clusterDomain: c.clusterDns.clusterDomain,
        upstreams: c.clusterDns.upstreams,
        ...metrics,
      });
      const { host, udpPort, tcpPort } = this.dns.addresses[0];
      this.dnsBackends = { [KUBE_DNS]: { dns: { host, port: udpPort }, 'dns-tcp': { host, port: tcpPort } } };
      this.runner?.trigger();
    }
    if (c.ingress)
      this.ingressController = await startIngressController({
        informers: this.informers,
        ensureClass: 'wake',
        ...c.ingress,
        ...metrics,
        queueMetrics: this.metrics.queueMetrics,
      });
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.resyncTimer);
    await this.runner?.stop();
    const failures: unknown[] = [];
    // The add-ons first: the ingress controller's status release still reads its informers.
    for (const addOn of [this.ingressController, this.dns])
      await addOn?.close().catch((e: unknown) => failures.push(e));
    await this.informers.stop();
    await this.proxierInstance?.stop();
    await this.portalManager?.stop().catch((e: unknown) => failures.push(e));
    await this.metricsServer?.close();
    if (failures.length) throw new AggregateError(failures, 'removing the proxy’s rules failed');
  }

  private async syncOnce(): Promise<void> {
    const started = performance.now();
    if (this.repairNext) {
      this.repairNext = false;
      await this.portals.repair();
    }
    const desired = desiredServicePorts(
      this.services.cache.list(),
      (ns, name) => this.slices.cache.byIndex(BY_SERVICE, `${ns}/${name}`),
      {
        nodeName: this.config.nodeName ?? hostname().toLowerCase(),
        localBackends: { ...this.localBackends, ...this.dnsBackends },
      },
    );
    await this.proxier.sync(desired);
    this.metrics.syncDuration.observe((performance.now() - started) / 1000);
    this.metrics.rules.set({ table: 'nat' }, this.portals.rules);
    this.metrics.servicePorts.set(this.proxier.servicePorts);
  }
}

@Module({})
export class ProxyModule {
  static forRoot(config: ProxyConfig, o: { hostNetwork?: HostNetwork } = {}): DynamicModule {
    return {
      module: ProxyModule,
      providers: [
        { provide: PROXY_CONFIG, useValue: config },
        {
          provide: ApiClient,
          useFactory: () =>
            new ApiClient(config.connection, {
              userAgent: `wake-proxy/${config.nodeName ?? hostname().toLowerCase()}`,
              maxInFlight: 8,
            }),
        },
        { provide: NATS, useFactory: () => connect({ servers: config.natsUrl, maxReconnectAttempts: -1 }) },
        { provide: HOST_NETWORK, useValue: o.hostNetwork ?? new ShellHostNetwork() },
        ProxyRuntime,
        connectionsClosedLast(NATS),
      ],
      exports: [ProxyRuntime],
    };
  }
}
