import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  splitKey,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import { CacheWaits, StaleInformerCache } from './stale-cache.js';
import { type Pod } from '../replicaset/pod-types.js';
import { isNamespaceTerminating } from '../serviceaccount/namespace-terminating.js';
import { desiredSubsets, type Endpoints, endpointsToWrite } from './desired-endpoints.js';
import { podServiceMemberships, selectedPods, servicesToUpdateOnPodChange } from './endpoint-pods.js';
import { ENDPOINTS, managedSelector, type Service } from './service-types.js';
import { TriggerTimeTracker } from './trigger-time-tracker.js';

/** resourcelock.LeaderElectionRecordAnnotationKey: Endpoints used as a lock have no Service and stay. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointsControllerOptions {
  api: ApiClient;
  services: Informer<Service>;
  pods: Informer<Pod>;
  endpoints: Informer<Endpoints>;
  events: EventRecorder;
  /** --concurrent-endpoint-syncs (upstream default 5). */
  workers?: number;
  /** --endpoint-updates-batch-period: pod changes wait this long, so several make one sync (default 0). */
  batchPeriodMs?: number;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The Endpoints controller (pkg/controller/endpoint/endpoints_controller.go): keeps, for every
 * Service with a selector, an Endpoints of the same name listing the matching pods' addresses
 * (ready and not ready) per port set; deletes the Endpoints of a Service that is gone. Keyed
 * by Service; every write carries the Service's resourceVersion as its cause.
 */
export class EndpointsController extends QueueController {
  readonly name = 'endpoint';
  private readonly triggerTimes = new TriggerTimeTracker();
  /**
   * staleEndpointsTracker's job: the resourceVersion of our last write per key, so that a sync
   * reading an older copy from the cache (the informer has not caught up) waits instead of
   * writing on top of it or creating it twice.
   */
  private readonly written = new Map<string, number>();
  /** The last resourceVersion of Services deleted, the cause of their Endpoints' deletion. */
  private readonly deletedServices = new Map<string, number>();
  private readonly cacheWaits: CacheWaits;

  constructor(private readonly o: EndpointsControllerOptions) {
    super({
      queueName: 'endpoint',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.cacheWaits = new CacheWaits(this.queue);
    o.services.onChange((c) => this.serviceChanged(c));
    o.pods.onChange((c) => this.podChanged(c));
    o.endpoints.onChange((c) => this.endpointsChanged(c));
  }

  protected enqueueAll(): void {
    for (const svc of this.o.services.cache.list()) this.queue.add(objectKey(svc));
    // checkLeftoverEndpoints: Endpoints whose Service went while no controller ran are deleted.
    for (const ep of this.o.endpoints.cache.list())
      if (ep.metadata.annotations?.[LEADER_ANNOTATION] === undefined) this.queue.add(objectKey(ep));
  }

  /** A cache behind this controller's own writes is retried quietly: under pod churn it is the rule. */
  protected override requeue(e: unknown, key: string): void {
    if (e instanceof StaleInformerCache) this.cacheWaits.wait(key);
    else super.requeue(e, key);
  }

  private serviceChanged(c: CacheChange<Service>): void {
    const key = objectKey(c.object);
    if (c.type === 'deleted') this.deletedServices.set(key, Number(c.object.metadata.resourceVersion));
    else this.deletedServices.delete(key);
    this.queue.add(key);
  }

  private podChanged(c: CacheChange<Pod>): void {
    const services = this.o.services.cache.byIndex('namespace', c.object.metadata.namespace ?? '');
    const keys =
      c.type === 'updated'
        ? servicesToUpdateOnPodChange(services, c.old, c.object)
        : podServiceMemberships(services, c.object);
    const delay = this.o.batchPeriodMs ?? 0;
    for (const key of keys)
      if (delay > 0) this.queue.addAfter(key, delay);
      else this.queue.add(key);
  }

  /** onEndpointsDelete: an Endpoints deleted by someone else is written again. */
  private endpointsChanged(c: CacheChange<Endpoints>): void {
    const key = objectKey(c.object);
    this.cacheWaits.delivered(key);
    if (c.type !== 'deleted') return;
    this.written.delete(key);
    this.queue.add(key);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.o.services.cache.get(key);
    if (!svc) {
      // The Service is gone: so is its Endpoints (a 404 means it was never there).
      this.triggerTimes.deleteService(key);
      const cause = this.deletedServices.get(key);
      try {
        await this.o.api.delete(resourcePath({ ...ENDPOINTS, namespace, name }), undefined, { cause });
      } catch (e) {
        if (!ApiError.isNotFound(e)) throw e;
      }
      this.written.delete(key);
      this.deletedServices.delete(key);
      return;
    }
    const selector = managedSelector(svc);
    if (!selector) return;
    const cause = Number(svc.metadata.resourceVersion);
    // The stale check comes before the pods are gathered: while the cache catches up, it runs on
    // every pod change.
    const current = this.o.endpoints.cache.get(key);
    const written = this.written.get(key);
    if (written !== undefined) {
      if (Number(current?.metadata.resourceVersion ?? 0) < written)
        throw new StaleInformerCache(
          `endpoints informer cache is out of date: ${key} was written at ${written}`,
        );
      this.written.delete(key);
    }
    const pods = selectedPods(this.o.pods.cache, namespace, selector);
    const triggerTime = this.triggerTimes.compute(key, svc, pods);
    const next = endpointsToWrite(svc, current, desiredSubsets(svc, pods), triggerTime);
    if (!next) return;
    const path = resourcePath({ ...ENDPOINTS, namespace });
    try {
      const saved = current
        ? await this.o.api.update<Endpoints>(`${path}/${name}`, next, { cause })
        : await this.o.api.create<Endpoints>(path, next, { cause });
      this.written.set(key, Number(saved.metadata.resourceVersion));
    } catch (e) {
      // Creates keep failing in a namespace being deleted: drop the key.
      if (!current && isNamespaceTerminating(e)) return;
      const verb = current ? 'update' : 'create';
      this.o.events.record({
        object: { ...svc, apiVersion: 'v1', kind: 'Service' },
        type: 'Warning',
        reason: current ? 'FailedToUpdateEndpoint' : 'FailedToCreateEndpoint',
        message: `Failed to ${verb} endpoint for service ${key}: ${(e as Error).message}`,
        cause,
      });
      throw e;
    }
  }
}
