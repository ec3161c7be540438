import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type FastifyInstance } from 'fastify';

import { ResourceRegistry } from '@app/api';

import {
  DefaultTolerationSeconds,
  LimitRanger,
  PriorityAdmission,
  ServiceAccountAdmission,
} from './admission/pod-defaults.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { DefaultStorageClass } from './admission/default-storage-class.js';
import { type SigningKey } from './auth/jwt.js';
import { serviceAccountTokens } from './auth/service-account-tokens.js';
import { type TokenFile } from './auth/token-file.js';
import { RbacAuthorizer } from './authz/rbac-authorizer.js';
import { RbacCaches } from './authz/rbac-caches.js';
import { RbacEscalationCheck } from './authz/escalation-check.js';
import { ensureKubeDnsService } from './bootstrap/kube-dns-service.js';
import { ensureKubernetesService } from './bootstrap/kubernetes-service.js';
import { ensureBootstrapPolicy } from './bootstrap/rbac-policy.js';
import { ensureSystemNamespaces } from './bootstrap/system-namespaces.js';
import { FollowedCaches, type FollowedCachesOptions } from './cache/followed-caches.js';
import { ListCache } from './cache/list-cache.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { ClusterConnections } from './cluster-connections.js';
import { API_SERVER_CONFIG, type ApiServerConfig, MAX_BODY_BYTES } from './config.js';
import { KubeApi } from './http/kube-api.js';
import { ObjectService } from './objects/object-service.js';
import { ServiceAllocator } from './services/service-allocator.js';

export interface ApiServerSecrets {
  tokens: TokenFile;
  /** Signs service-account tokens (sa.key in the PKI directory). */
  serviceAccountKey: SigningKey;
  caCert: string;
  serverAddress: string;
  version: string;
}

export const API_SERVER_SECRETS = Symbol('ApiServerSecrets');

/** The kinds kept in memory for admission (service accounts also for the token authenticator). */
type AdmissionCaches = FollowedCaches<'namespaces' | 'priorityclasses' | 'limitranges' | 'serviceaccounts'>;
const ADMISSION_CACHES = Symbol('AdmissionCaches');

/** Registers the Kubernetes routes on the Fastify instance before it starts listening. */
@Injectable()
class KubeRoutes implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ClusterConnections) private readonly connections: ClusterConnections,
    @Inject(ObjectService) private readonly objects: ObjectService,
    @Inject(ResourceRegistry) private readonly registry: ResourceRegistry,
    @Inject(API_SERVER_CONFIG) private readonly config: ApiServerConfig,
    @Inject(API_SERVER_SECRETS) private readonly secrets: ApiServerSecrets,
    @Inject(ApiMetrics) private readonly metrics: ApiMetrics,
    @Inject(ADMISSION_CACHES) private readonly caches: AdmissionCaches,
    @Inject(ListCache) private readonly listCache: ListCache,
    @Inject(RbacAuthorizer) private readonly authorizer: RbacAuthorizer,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.listCache.stop();
  }

  onModuleInit(): void {
    const app = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const log = new Logger('authentication');
    const { authenticator, tokenRequests } = serviceAccountTokens({
      config: this.config,
      key: this.secrets.serviceAccountKey,
      tokenFile: this.secrets.tokens,
      objects: this.objects,
      registry: this.registry,
      serviceAccounts: () => this.caches.get('serviceaccounts'),
      onRefused: (why) => log.debug(`token refused: ${why}`),
    });
    new KubeApi({
      registry: this.registry,
      objects: this.objects,
      store: this.connections.store,
      hub: this.connections.hub,
      nats: this.connections.nats,
      authenticate: (token) => authenticator.authenticate(token),
      authorizer: this.authorizer,
      tokenRequests,
      serverAddress: () => this.secrets.serverAddress,
      wakeVersion: this.secrets.version,
      watchTimeoutMs: this.config.watchTimeoutMs ?? 30 * 60_000,
      bookmarkIntervalMs: this.config.bookmarkIntervalMs ?? 60_000,
      maxBodyBytes: this.config.bodyLimit ?? MAX_BODY_BYTES,
      metrics: this.metrics,
      listCache: this.listCache,
    }).register(app);
  }
}

/**
 * What the API server keeps true in the cluster from the start: the system namespaces, the
 * default RBAC policy, the `kubernetes` and `kube-dns` Services.
 */
@Injectable()
export class ClusterBootstrap
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(ClusterConnections) private readonly connections: ClusterConnections,
    @Inject(ObjectService) private readonly objects: ObjectService,
    @Inject(ResourceRegistry) private readonly registry: ResourceRegistry,
    @Inject(ServiceAllocator) private readonly allocator: ServiceAllocator,
    @Inject(RbacCaches) private readonly rbac: RbacCaches,
    @Inject(ADMISSION_CACHES) private readonly admissionCaches: AdmissionCaches,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The default ServiceAccount and kube-root-ca.crt of each namespace are the controller
    // manager's (serviceaccount, root-ca-cert-publisher), as upstream.
    await ensureSystemNamespaces(this.objects, this.registry);
    const written = await ensureBootstrapPolicy(this.objects, this.registry);
    // Serving starts after this: the first request is authorized against the whole default policy.
    if (!(await this.rbac.sync(written, 10_000)))
      new Logger('api-server').warn(
        `the RBAC caches had not reached the default policy (${written}) in 10 s`,
      );
    const dnsIp = this.allocator.dnsServiceIp;
    if (dnsIp === undefined)
      new Logger('api-server').warn(
        `no kube-dns Service: the service range ${this.allocator.range.cidr} has fewer than 10 addresses`,
      );
    else await ensureKubeDnsService(this.objects, this.registry, dnsIp);
  }

  /** Once listening: the `kubernetes` Service and its endpoints point at this server. */
  async publishApiEndpoint(address: string, port: number): Promise<void> {
    await ensureKubernetesService(this.objects, this.registry, {
      clusterIp: this.allocator.apiServiceIp,
      address,
      port,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    // First, or the followed caches would take the end of their watches for a failure to rebuild from.
    await Promise.all([this.rbac.stop(), this.admissionCaches.stop()]);
    // Ends every open watch, so the HTTP server can close.
    await this.connections.stopWatches();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connections.close();
  }
}

@Module({})
export class ApiServerModule {
  static forRoot(config: ApiServerConfig, secrets: ApiServerSecrets): DynamicModule {
    const log = new Logger('api-server');
    const followedCacheLog: FollowedCachesOptions = {
      onError: (plural, e) => log.error(`${plural} cache: ${String(e)}`),
      onRebuilt: (plural) => log.log(`${plural} cache rebuilt: it follows the log again`),
    };
    return {
      module: ApiServerModule,
      providers: [
        { provide: API_SERVER_CONFIG, useValue: config },
        { provide: API_SERVER_SECRETS, useValue: secrets },
        { provide: ResourceRegistry, useValue: new ResourceRegistry() },
        { provide: ApiMetrics, useValue: new ApiMetrics() },
        {
          provide: ClusterConnections,
          useFactory: () =>
            ClusterConnections.open(config, (msg, fields) =>
              log.log(`${msg} ${fields ? JSON.stringify(fields) : ''}`),
            ),
        },
        {
          provide: ServiceAllocator,
          inject: [ClusterConnections, ResourceRegistry],
          useFactory: (c: ClusterConnections, registry: ResourceRegistry) =>
            new ServiceAllocator(c.store, registry, {
              serviceCidr: config.serviceCidr,
              nodePortRange: config.nodePortRange,
            }),
        },
        {
          // What admission (and the root CA publisher) read on every request is kept in memory, fed by the hub.
          provide: ADMISSION_CACHES,
          inject: [ClusterConnections, ResourceRegistry],
          useFactory: (c: ClusterConnections, registry: ResourceRegistry): Promise<AdmissionCaches> =>
            FollowedCaches.start(
              c.store,
              c.hub,
              {
                namespaces: registry.get('', 'v1', 'namespaces'),
                priorityclasses: registry.get('scheduling.k8s.io', 'v1', 'priorityclasses'),
                limitranges: registry.get('', 'v1', 'limitranges'),
                serviceaccounts: registry.get('', 'v1', 'serviceaccounts'),
              },
              followedCacheLog,
            ),
        },
        {
          provide: RbacCaches,
          inject: [ClusterConnections, ResourceRegistry],
          useFactory: (c: ClusterConnections, registry: ResourceRegistry) =>
            RbacCaches.start(c.store, c.hub, registry, followedCacheLog),
        },
        {
          provide: RbacAuthorizer,
          inject: [RbacCaches],
          useFactory: (rbac: RbacCaches) => new RbacAuthorizer(rbac),
        },
        {
          // Whole lists from memory (upstream's watch cache), sharing the admission and RBAC caches' kinds.
          provide: ListCache,
          inject: [ClusterConnections, ApiMetrics, ADMISSION_CACHES, RbacCaches],
          useFactory: (
            c: ClusterConnections,
            metrics: ApiMetrics,
            caches: AdmissionCaches,
            rbac: RbacCaches,
          ) =>
            new ListCache(
              c.store,
              c.hub,
              metrics.registry,
              (e) => log.error(`list cache: ${String(e)}`),
              config.listCache,
              [...caches.getters(), ...rbac.caches.getters()],
            ),
        },
        {
          provide: ObjectService,
          inject: [
            ClusterConnections,
            ResourceRegistry,
            ServiceAllocator,
            ADMISSION_CACHES,
            ListCache,
            RbacAuthorizer,
          ],
          useFactory: (
            c: ClusterConnections,
            registry: ResourceRegistry,
            allocator: ServiceAllocator,
            caches: AdmissionCaches,
            listCache: ListCache,
            authorizer: RbacAuthorizer,
          ) => {
            // Admission plugins read through the same service they guard.
            const ref: { objects?: ObjectService } = {};
            const self = () => ref.objects as ObjectService;
            ref.objects = new ObjectService(
              c.store,
              [
                new NamespaceLifecycle(self, registry, () => caches.get('namespaces')),
                new ServiceAccountAdmission(),
                new PriorityAdmission(self, registry, () => caches.get('priorityclasses')),
                new DefaultTolerationSeconds(),
                new LimitRanger(self, registry, () => caches.get('limitranges')),
                new DefaultStorageClass(self, registry),
                new RbacEscalationCheck(authorizer),
              ],
              [allocator],
              // Updates and patches start from the watch cache's copy where it has one.
              listCache,
            );
            return ref.objects;
          },
        },
        KubeRoutes,
        ClusterBootstrap,
      ],
    };
  }
}
