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
import { CacheWaits, StaleInformerCache } from '../endpoints/stale-cache.js';
import {
  podServiceMemberships,
  selectedPods,
  servicesToUpdateOnPodChange,
} from '../endpoints/endpoint-pods.js';
import {
  LAST_CHANGE_TRIGGER_TIME,
  managedSelector,
  type Node,
  type Service,
  ZONE_LABEL,
} from '../endpoints/service-types.js';
import { formatRfc3339Nano, TriggerTimeTracker } from '../endpoints/trigger-time-tracker.js';
import { type Pod } from '../replicaset/pod-types.js';
import { isNamespaceTerminating } from '../serviceaccount/namespace-terminating.js';
import { planSlices } from './reconciler.js';
import { SliceTracker } from './slice-tracker.js';
import {
  ENDPOINT_SLICES,
  type EndpointSlice,
  MANAGED_BY_LABEL,
  managedByController,
  SERVICE_NAME_LABEL,
} from './slice-types.js';

/** endpointSliceChangeMinSyncDelay: a slice change seen is acted on this much later, so that several make one sync. */
const SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000;

export interface EndpointSliceControllerOptions {
  api: ApiClient;
  services: Informer<Service>;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  slices: Informer<EndpointSlice>;
  events: EventRecorder;
  /** --concurrent-service-endpoint-syncs (upstream default 5). */
  workers?: number;
  /** --max-endpoints-per-slice (upstream default 100, at most 1000). */
  maxEndpointsPerSlice?: number;
  /** --endpointslice-updates-batch-period (default 0). */
  batchPeriodMs?: number;
  /** endpointSliceChangeMinSyncDelay (1 s upstream; tests shorten it). */
  sliceChangeDelayMs?: number;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
  /** Told each slice write (tests count churn). */
  onSliceWrite?: (verb: 'create' | 'update' | 'delete', slice: EndpointSlice) => void;
}

/**
 * The EndpointSlice controller (pkg/controller/endpointslice/endpointslice_controller.go):
 * for every Service with a selector, slices of at most 100 endpoints per address type and port
 * set, labelled with the Service's name and this controller, owned by the Service. Keyed by
 * Service; every write carries the Service's resourceVersion as its cause.
 */
export class EndpointSliceController extends QueueController {
  readonly name = 'endpointslice';
  private readonly tracker = new SliceTracker();
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Nodes not known yet, by name, and the Services whose pods on them were left out. */
  private readonly waitingForNode = new Map<string, Set<string>>();
  private readonly cacheWaits: CacheWaits;

  constructor(private readonly o: EndpointSliceControllerOptions) {
    super({
      queueName: 'endpoint_slice',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.cacheWaits = new CacheWaits(this.queue);
    o.services.onChange((c) => this.queue.add(objectKey(c.object)));
    o.pods.onChange((c) => this.podChanged(c));
    o.nodes.onChange((c) => this.nodeChanged(c));
    o.slices.onChange((c) => this.sliceChanged(c));
  }

  protected enqueueAll(): void {
    for (const svc of this.o.services.cache.list()) this.queue.add(objectKey(svc));
  }

  /** A cache behind this controller's own writes is retried quietly: under pod churn it is the rule. */
  protected override requeue(e: unknown, key: string): void {
    if (e instanceof StaleInformerCache) this.cacheWaits.wait(key);
    else super.requeue(e, key);
  }

  private podChanged(c: CacheChange<Pod>): void {
    const services = this.o.services.cache.byIndex('namespace', c.object.metadata.namespace ?? '');
    const keys =
      c.type === 'updated'
        ? servicesToUpdateOnPodChange(services, c.old, c.object)
        : podServiceMemberships(services, c.object);
    this.enqueueKeys(keys, this.o.batchPeriodMs ?? 0);
  }

  /**
   * A node that appears, when pods on it were left out waiting for it, or that changes zone:
   * the Services of its pods are synced again. (Upstream watches nodes for topology hints only;
   * a zone label change would otherwise show only at the next pod change.)
   */
  private nodeChanged(c: CacheChange<Node>): void {
    const name = c.object.metadata.name ?? '';
    if (c.type === 'deleted') return;
    if (c.type === 'added') {
      const waiting = this.waitingForNode.get(name);
      this.waitingForNode.delete(name);
      if (waiting) this.enqueueKeys(waiting, 0);
      return;
    }
    if (c.old.metadata.labels?.[ZONE_LABEL] === c.object.metadata.labels?.[ZONE_LABEL]) return;
    const keys = new Set<string>();
    for (const pod of this.o.pods.cache.list()) {
      if (pod.spec?.nodeName !== name) continue;
      const services = this.o.services.cache.byIndex('namespace', pod.metadata.namespace ?? '');
      for (const k of podServiceMemberships(services, pod)) keys.add(k);
    }
    this.enqueueKeys(keys, 0);
  }

  private enqueueKeys(keys: Iterable<string>, delay: number): void {
    for (const key of keys)
      if (delay > 0) this.queue.addAfter(key, delay);
      else this.queue.add(key);
  }

  /** onEndpointSliceAdd/Update/Delete: news about our slices that we did not write ourselves. */
  private sliceChanged(c: CacheChange<EndpointSlice>): void {
    const slice = c.object;
    const service = sliceService(slice);
    if (service) this.cacheWaits.delivered(service);
    if (c.type === 'deleted') {
      if (managedByController(slice) && this.tracker.has(slice) && !this.tracker.handleDeletion(slice))
        this.queueForSlice(slice);
      return;
    }
    if (c.type === 'updated') {
      const [was, now] = [c.old.metadata.labels, slice.metadata.labels];
      // Users may relabel a slice: both Services have a look.
      if (was?.[SERVICE_NAME_LABEL] !== now?.[SERVICE_NAME_LABEL]) {
        this.queueForSlice(c.old);
        this.queueForSlice(slice);
      }
      if (was?.[MANAGED_BY_LABEL] !== now?.[MANAGED_BY_LABEL]) {
        this.queueForSlice(slice);
        return;
      }
    }
    if (managedByController(slice) && this.tracker.shouldSync(slice)) this.queueForSlice(slice);
  }

  private queueForSlice(slice: EndpointSlice): void {
    const service = sliceService(slice);
    if (service) this.queue.addAfter(service, this.o.sliceChangeDelayMs ?? SLICE_CHANGE_MIN_SYNC_DELAY_MS);
  }

  async sync(key: string): Promise<void> {
    const { namespace } = splitKey(key);
    const svc = this.o.services.cache.get(key);
    if (!svc) {
      // Its slices go with it: the garbage collector deletes what the Service owned.
      this.triggerTimes.deleteService(key);
      this.tracker.deleteService(key);
      return;
    }
    const selector = managedSelector(svc);
    if (!selector) return;
    const cause = Number(svc.metadata.resourceVersion);
    // The stale check comes before the pods are gathered: while the cache catches up, it runs on
    // every pod change.
    const slices = this.o.slices.cache
      .byIndex('namespace', namespace)
      .filter(
        (s) =>
          managedByController(s) &&
          s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name &&
          !s.metadata.deletionTimestamp,
      );
    if (this.tracker.stale(key, slices))
      throw new StaleInformerCache(`EndpointSlice informer cache is out of date for ${key}`);
    const pods = selectedPods(this.o.pods.cache, namespace, selector);
    const triggerTime = this.triggerTimes.compute(key, svc, pods);
    const plan = planSlices({
      service: svc,
      pods,
      existing: slices,
      node: (name) => this.o.nodes.cache.get(name),
      maxEndpointsPerSlice: this.o.maxEndpointsPerSlice,
    });
    try {
      await this.write(svc, plan, triggerTime, cause);
    } catch (e) {
      this.o.events.record({
        object: { ...svc, apiVersion: 'v1', kind: 'Service' },
        type: 'Warning',
        reason: 'FailedToUpdateEndpointSlices',
        message: `Error updating Endpoint Slices for Service ${key}: ${(e as Error).message}`,
        cause,
      });
      throw e;
    }
    // Pods on unknown nodes were left out: look again (the node's arrival also requeues).
    for (const node of plan.missingNodes) {
      let waiting = this.waitingForNode.get(node);
      if (!waiting) this.waitingForNode.set(node, (waiting = new Set()));
      waiting.add(key);
    }
    if (plan.errors.length > 0) throw plan.errors[0];
  }

  /** Reconciler.finalize: creates (not while the Service is being deleted), then updates, then deletes. */
  private async write(
    svc: Service,
    plan: ReturnType<typeof planSlices>,
    triggerTime: number | undefined,
    cause: number,
  ): Promise<void> {
    const namespace = svc.metadata.namespace;
    const path = resourcePath({ ...ENDPOINT_SLICES, namespace });
    const annotate = (slice: EndpointSlice) => {
      const annotations = { ...(slice.metadata.annotations ?? {}) };
      if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatRfc3339Nano(triggerTime);
      else delete annotations[LAST_CHANGE_TRIGGER_TIME];
      return { ...slice, metadata: { ...slice.metadata, annotations } };
    };
    if (!svc.metadata.deletionTimestamp)
      for (const slice of plan.create) {
        try {
          const created = await this.o.api.create<EndpointSlice>(path, annotate(slice), { cause });
          this.tracker.update(created);
          this.o.onSliceWrite?.('create', created);
        } catch (e) {
          if (isNamespaceTerminating(e)) return;
          throw new Error(
            `failed to create EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(e as Error).message}`,
            { cause: e },
          );
        }
      }
    for (const slice of plan.update) {
      try {
        const updated = await this.o.api.update<EndpointSlice>(
          `${path}/${slice.metadata.name}`,
          annotate(slice),
          {
            cause,
          },
        );
        this.tracker.update(updated);
        this.o.onSliceWrite?.('update', updated);
      } catch (e) {
        throw new Error(
          `failed to update ${slice.metadata.name} EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    for (const slice of plan.delete) {
      try {
        await this.o.api.delete(`${path}/${slice.metadata.name}`, undefined, { cause });
      } catch (e) {
        // Already gone: no deletion event of ours to wait for.
        if (ApiError.isNotFound(e)) continue;
        throw new Error(
          `failed to delete ${slice.metadata.name} EndpointSlice for Service ${namespace}/${svc.metadata.name}: ${(e as Error).message}`,
          { cause: e },
        );
      }
      this.tracker.expectDeletion(slice);
      this.o.onSliceWrite?.('delete', slice);
    }
  }
}

/** The key (namespace/name) of the Service a slice's label names, if it names one. */
function sliceService(slice: EndpointSlice): string | undefined {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? `${slice.metadata.namespace}/${service}` : undefined;
}
