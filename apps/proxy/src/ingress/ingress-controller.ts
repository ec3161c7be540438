import { type IncomingMessage } from 'node:http';

import {
  bySliceService,
  ExponentialBackoff,
  type Informer,
  MaxOf,
  objectKey,
  resourcePath,
  TokenBucket,
  type WorkQueueMetrics,
} from '@app/client';
import { createLogger, type Logger } from '@app/logging';
import { Counter, type Registry } from '@app/metrics';

import { type InformerSource, openInformers } from '../informer-source.js';
import { type Resolution, resolveBackend, RoundRobin } from './backend-endpoints.js';
import { type ClassSelection, handlesIngress } from './class-selection.js';
import { IngressStatusController } from './ingress-status.js';
import {
  ENDPOINT_SLICES,
  type EndpointSlice,
  INGRESS_CLASSES,
  INGRESSES,
  type Ingress,
  type IngressClass,
  type IngressServiceBackend,
  type Service,
  SERVICES,
} from './ingress-types.js';
import { ensureIngressClass } from './default-ingress-class.js';
import { requestHostName, requestPath } from './path-match.js';
import { type Decision, ReverseProxy } from './reverse-proxy.js';
import { RouteTable } from './route-table.js';
import { CertificateStore, type TlsSecret, tlsSecretsByHost } from './tls-certificates.js';

/** ingress-nginx's is `k8s.io/ingress-nginx`; IngressClasses name Wake's by this. */
export const DEFAULT_INGRESS_CONTROLLER = 'wake.io/ingress';

/** Informers: the proxy process's shared ones, or (alone) a connection to open its own over. */
export type IngressControllerOptions = InformerSource & IngressControllerSettings;

export interface IngressControllerSettings {
  /** Where the HTTP listener binds (tests: 127.0.0.1 and port 0 for a free one). */
  listen: { host: string; port: number };
  /** Where the HTTPS listener binds, serving the served Ingresses' spec.tls certificates (absent: none). */
  tlsListen?: { host: string; port: number };
  /** How often the TLS Secrets are read again, besides on every Ingress change (default 10 s). */
  secretResyncMs?: number;
  /** The IngressClass spec.controller this controller answers to (default `wake.io/ingress`). */
  controllerName?: string;
  /** The address written to the status of the Ingresses served (the node's); default the listen host. */
  statusAddress?: string;
  /**
   * Create this IngressClass for the controller when none names it (default none: the
   * classes are the cluster's business); see ensureIngressClass.
   */
  ensureClass?: string;
  /** Serve Ingresses that name no class even without a default IngressClass of ours. */
  watchIngressWithoutClass?: boolean;
  /** Take the address off the Ingresses when closing (ingress-nginx's default: yes). */
  updateStatusOnShutdown?: boolean;
  /** How long an upstream connection may take before the next endpoint is tried (default 5 s). */
  connectTimeoutMs?: number;
  /** Per-item backoff of status writes, [base, max] ms (default 5 ms → 1000 s). */
  backoffMs?: [number, number];
  /** Where the controller's request counters are registered (the proxy process's registry). */
  registry?: Registry;
  /** The process's work-queue metrics hook (libs/metrics workQueueMetrics), for the status queue. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
  logger?: Logger;
}

export interface RunningIngressController {
  /** Where the listener is bound (its real port when 0 was asked for). */
  address: { host: string; port: number };
  /** `http://host:port` of the listener. */
  url: string;
  /** `https://host:port` of the HTTPS listener, when there is one. */
  tlsUrl?: string;
  close(): Promise<void>;
}

const SECRETS = { group: '', version: 'v1', plural: 'secrets' };

const hostPort = (a: { host: string; port: number }) =>
  `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** The Service port a backend names: its name, else its number. */
const portKey = (b: IngressServiceBackend) => b.port?.name || String(b.port?.number);

/**
 * Starts Wake's ingress controller (the ingress-nginx role, in-process): informers over the
 * Ingresses, IngressClasses, Services and EndpointSlices; an HTTP reverse proxy on `listen`
 * that routes by the served Ingresses' host and path rules straight to the backends' ready
 * endpoints, round robin; and the status writer that reports `statusAddress` on every Ingress
 * served. Resolves once the caches are synced and the listener is bound.
 */
export async function startIngressController(o: IngressControllerOptions): Promise<RunningIngressController> {
  const log = o.logger ?? createLogger('ingress-controller');
  const selection: ClassSelection = {
    controller: o.controllerName ?? DEFAULT_INGRESS_CONTROLLER,
    watchIngressWithoutClass: o.watchIngressWithoutClass,
  };
  /** What close undoes, last started first: the status release needs the API client still open. */
  const cleanup: (() => Promise<unknown> | void)[] = [];
  const closeAll = async () => {
    for (const undo of cleanup.reverse())
      try {
        await undo();
      } catch (e) {
        log.warn({ err: e as Error }, 'ingress controller close');
      }
  };
  try {
    const { informers, close } = await openInformers(o, {
      userAgent: 'wake-ingress-controller',
      maxInFlight: 8,
      onTrouble: (what, e) => log.warn({ err: e }, what),
    });
    cleanup.push(close);
    const api = informers.api;
    const ingresses = informers.informer<Ingress>(INGRESSES);
    const classes = informers.informer<IngressClass>(INGRESS_CLASSES);
    const services = informers.informer<Service>(SERVICES);
    const slices = informers.informer<EndpointSlice>(ENDPOINT_SLICES, { service: bySliceService });

    const routing = new Routing(ingresses, classes, services, slices, selection);
    ingresses.onChange(() => routing.invalidate());
    classes.onChange(() => routing.invalidate());

    const requests = o.registry
      ? new Counter({
          name: 'wake_ingress_requests_total',
          help: 'Requests the ingress controller answered, by status code.',
          labelNames: ['status'],
          registers: [o.registry],
        })
      : undefined;
    const failedConnects = o.registry
      ? new Counter({
          name: 'wake_ingress_upstream_connect_failures_total',
          help: 'Upstream connections that failed, each retried on another endpoint while one is left.',
          registers: [o.registry],
        })
      : undefined;
    const proxyOptions = {
      decide: (req: IncomingMessage) => routing.decide(req),
      connectTimeoutMs: o.connectTimeoutMs,
      onOutcome: (status: number, failed: number) => {
        requests?.inc({ status: String(status) });
        if (failed) failedConnects?.inc(failed);
      },
      onTrouble: (e: Error) => log.warn({ err: e }, 'ingress proxy'),
    };
    const proxy = new ReverseProxy(proxyOptions);

    /** The HTTPS listener and the certificates it serves, read again when the TLS claims change and every resync. */
    const serveTls = async (listen: { host: string; port: number }) => {
      const certs = new CertificateStore({
        fetch: (namespace, name) => api.getIfExists<TlsSecret>(resourcePath({ ...SECRETS, namespace, name })),
        wanted: () => tlsSecretsByHost(routing.served()),
        onTrouble: (e) => log.warn({ err: e }, 'ingress TLS'),
      });
      cleanup.push(() => certs.stop());
      await certs.reload();
      ingresses.onChange(() => void certs.reloadIfClaimsChanged());
      classes.onChange(() => void certs.reloadIfClaimsChanged());
      certs.resyncEvery(o.secretResyncMs ?? 10_000);
      const tlsProxy = new ReverseProxy({ ...proxyOptions, tls: certs });
      const bound = await tlsProxy.listen(listen.host, listen.port);
      cleanup.push(() => tlsProxy.close());
      return `https://${hostPort(bound)}`;
    };

    if (o.ensureClass) await ensureIngressClass(api, o.ensureClass, selection.controller);
    for (const i of [ingresses, classes, services, slices]) i.start();
    await Promise.all([ingresses, classes, services, slices].map((i) => i.synced()));

    const address = await proxy.listen(o.listen.host, o.listen.port);
    cleanup.push(() => proxy.close());
    const tlsUrl = o.tlsListen ? await serveTls(o.tlsListen) : undefined;

    const [base, max] = o.backoffMs ?? [5, 1_000_000];
    const status = new IngressStatusController({
      api,
      ingresses,
      classes,
      selection,
      address: o.statusAddress ?? o.listen.host,
      rateLimiter: new MaxOf<string>(new ExponentialBackoff<string>(base, max), new TokenBucket(10, 100)),
      queueMetrics: o.queueMetrics,
      onTrouble: (e, key) => log.warn({ err: e, key }, 'ingress status'),
    });
    status.start();
    cleanup.push(async () => {
      await status.stop();
      if (o.updateStatusOnShutdown ?? true) await status.release();
    });
    log.info({ address, tlsUrl, controller: selection.controller }, 'ingress controller serving');
    let closing: Promise<void> | undefined;
    return { address, url: `http://${hostPort(address)}`, tlsUrl, close: () => (closing ??= closeAll()) };
  } catch (e) {
    await closeAll();
    throw new Error(`ingress controller did not start: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * What a request means to the served Ingresses: the route table (rebuilt, when an Ingress or
 * IngressClass changed, at the next request) and the backends' endpoints, resolved from the
 * informers' caches at the first request after their Service or one of its EndpointSlices
 * changed, so an endpoint change applies as soon as the informer has it and a request in
 * between reads no slice.
 */
class Routing {
  private table?: RouteTable;
  private servedIngresses?: Ingress[];
  private readonly roundRobin = new RoundRobin();
  /** Resolved backends by Service (`namespace/name`), then by backend port. */
  private readonly resolved = new Map<string, Map<string, Resolution>>();

  constructor(
    private readonly ingresses: Informer<Ingress>,
    private readonly classes: Informer<IngressClass>,
    private readonly services: Informer<Service>,
    private readonly slices: Informer<EndpointSlice>,
    private readonly selection: ClassSelection,
  ) {
    services.onChange((c) => this.resolved.delete(objectKey(c.object)));
    slices.onChange((c) => {
      // A slice relabelled to another Service changes both.
      for (const slice of c.type === 'updated' ? [c.old, c.object] : [c.object])
        for (const service of bySliceService(slice)) this.resolved.delete(service);
    });
  }

  invalidate(): void {
    this.table = undefined;
    this.servedIngresses = undefined;
  }

  /** The Ingresses this controller serves (their class is one of its own). */
  served(): Ingress[] {
    return (this.servedIngresses ??= this.ingresses.cache
      .list()
      .filter((i) => handlesIngress(i, this.classes.cache, this.selection)));
  }

  decide(req: IncomingMessage): Decision {
    const target = this.routes().route(requestHostName(req.headers.host), requestPath(req.url));
    if (!target) return { status: 404, message: 'default backend - 404' };
    const backend = target.backend.service;
    if (!backend) return { status: 503, message: `${target.ingress}: only Service backends are served` };
    const found = this.resolve(target.namespace, backend);
    if ('reason' in found)
      return { status: 503, message: `service ${target.namespace}/${backend.name}: ${found.reason}` };
    const key = `${target.namespace}/${backend.name}:${portKey(backend)}`;
    return { upstreams: this.roundRobin.order(key, found.upstreams) };
  }

  private resolve(namespace: string, backend: IngressServiceBackend): Resolution {
    const key = `${namespace}/${backend.name}`;
    let byPort = this.resolved.get(key);
    if (!byPort) this.resolved.set(key, (byPort = new Map()));
    let found = byPort.get(portKey(backend));
    if (!found) {
      found = resolveBackend(
        backend,
        this.services.cache.get(key),
        this.slices.cache.byIndex('service', key),
      );
      byPort.set(portKey(backend), found);
    }
    return found;
  }

  private routes(): RouteTable {
    return (this.table ??= new RouteTable(this.served()));
  }
}
