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

import { ApiClient, type ApiConnection, connectionsClosedLast, Informer } from '@app/client';
import { type EventStreamOptions } from '@app/bus';
import { type MetricsServer, serveMetrics } from '@app/metrics';

import { type EndpointSlice, type Service } from './api-types.js';
import { HOST_NETWORK, type HostNetwork, ShellHostNetwork } from './netfilter/host-network.js';
import { interfaceAddress, PortalManager } from './netfilter/portal-manager.js';
import { Proxier } from './proxier.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { desiredServicePorts, type LocalBackends, sliceServiceKey } from './service-ports.js';
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
  /** The bridge pods are on (default docker0): its address is where proxy ports listen. */
  bridge?: string;
  /** That address given directly (default: read from the bridge). */
  gateway?: string;
  /** The service range for the blackhole route (the API server's --service-cluster-ip-range); absent: no route. */
  serviceCidr?: string;
  /** Addresses node ports listen on (upstream --nodeport-addresses; default 127.0.0.1). */
  nodePortAddresses?: string[];
  /** Service ports answered by listeners of this process rather than their endpoints (see LocalBackends). */
  localBackends?: LocalBackends;
  /** How long changes gather before a sync (default 0: the next turn of the event loop). */
  coalesceMs?: number;
  udpIdleTimeoutMs?: number;
  /** Serve /metrics and /healthz on this loopback port (0: any free port; absent: not served). */
  metricsPort?: number;
  /** Shuffle each service port's endpoints when they change (default true, as upstream). */
  shuffleEndpoints?: boolean;
}

export const PROXY_CONFIG = Symbol('ProxyConfig');
export const NATS = Symbol('NatsConnection');

const BY_SERVICE = 'service';

/**
 * The proxy process: informers on Services and EndpointSlices; every change recomputes the
 * desired service ports and applies them (listeners, balancer, portal rules) at once.
 */
@Injectable()
export class ProxyRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('proxy');
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly metrics = new ProxyMetrics();
  private metricsServer?: MetricsServer;
  private portalManager?: PortalManager;
  private proxierInstance?: Proxier;
  private runner?: SyncRunner;
  private localBackends: LocalBackends;
  private address?: string;
  private syncs = 0;
  /** Resolves after each sync; what waitForSync hands out. */
  private syncWaiters: (() => void)[] = [];

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    @Inject(ApiClient) api: ApiClient,
    @Inject(NATS) nats: NatsConnection,
    @Inject(HOST_NETWORK) private readonly net: HostNetwork,
  ) {
    const common = {
      api,
      nats,
      stream: config.stream,
      onTrouble: (e: Error) => this.logger.warn(`informer: ${e.message}`),
    };
    this.services = new Informer<Service>({
      ...common,
      resource: { group: '', version: 'v1', plural: 'services' },
    });
    this.slices = new Informer<EndpointSlice>({
      ...common,
      resource: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
      indexers: { [BY_SERVICE]: sliceServiceKey },
    });
    this.localBackends = config.localBackends ?? {};
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

  /** Syncs done so far. */
  get syncCount(): number {
    return this.syncs;
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
      proxyAddress,
      nodePortAddresses: c.nodePortAddresses,
      udpIdleTimeoutMs: c.udpIdleTimeoutMs,
      shuffle: c.shuffleEndpoints,
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
    this.services.start();
    this.slices.start();
    await Promise.all([this.services.synced(), this.slices.synced()]);
    // The first sync is done before the proxy says it is ready.
    await this.syncOnce();
    this.logger.log(
      `proxying through ${proxyAddress} (chains ${this.portalManager.chains.container}, ${this.portalManager.chains.host})`,
    );
  }

  /** Resolves after the next sync completes (tests, the benchmark). */
  nextSync(): Promise<void> {
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
    await Promise.all([this.services.stop(), this.slices.stop()]);
    const failures: unknown[] = [];
    await this.proxierInstance?.stop();
    await this.portalManager?.stop().catch((e: unknown) => failures.push(e));
    await this.metricsServer?.close();
    if (failures.length) throw new AggregateError(failures, 'removing the proxy’s rules failed');
  }

  private async syncOnce(): Promise<void> {
    const started = performance.now();
    const desired = desiredServicePorts(
      this.services.cache.list(),
      (ns, name) => this.slices.cache.byIndex(BY_SERVICE, `${ns}/${name}`),
      { nodeName: this.config.nodeName ?? hostname().toLowerCase(), localBackends: this.localBackends },
    );
    await this.proxier.sync(desired);
    this.syncs++;
    this.metrics.syncDuration.observe((performance.now() - started) / 1000);
    this.metrics.rules.set({ table: 'nat' }, this.portals.rules);
    this.metrics.servicePorts.set(this.proxier.servicePorts);
    for (const w of this.syncWaiters.splice(0)) w();
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
              maxSockets: 8,
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
