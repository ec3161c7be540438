import { isIP } from 'node:net';

import {
  ApiError,
  type ApiClient,
  type Informer,
  objectKey,
  resourcePath,
  type RateLimiter,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../../../controller-manager/src/controller.js';
import { type ClassSelection, handlesIngress } from './class-selection.js';
import { INGRESSES, type Ingress, type IngressClass, type LoadBalancerIngress } from './ingress-types.js';

/** The status entry an address makes: an IP as `ip`, a name as `hostname`. */
export function statusEntry(address: string): LoadBalancerIngress {
  return isIP(address) ? { ip: address } : { hostname: address };
}

const same = (a: LoadBalancerIngress, b: LoadBalancerIngress) =>
  (a.ip ?? '') === (b.ip ?? '') && (a.hostname ?? '') === (b.hostname ?? '');
const label = (e: LoadBalancerIngress) => e.ip ?? e.hostname ?? '';

/**
 * The status.loadBalancer.ingress an Ingress should carry: what it has, with this controller's
 * entry added when it serves the Ingress and taken out when it does not. Entries other
 * controllers (the same controller on other nodes) wrote are kept; the list is sorted so that
 * every writer agrees on it. Undefined: nothing to change.
 */
export function statusToWrite(
  current: readonly LoadBalancerIngress[] | undefined,
  ours: LoadBalancerIngress,
  serving: boolean,
): LoadBalancerIngress[] | undefined {
  const cur = current ?? [];
  const has = cur.some((e) => same(e, ours));
  if (has === serving) return undefined;
  const next = serving ? [...cur, ours] : cur.filter((e) => !same(e, ours));
  return next.sort((a, b) => (label(a) < label(b) ? -1 : label(a) > label(b) ? 1 : 0));
}

export interface IngressStatusOptions {
  api: ApiClient;
  ingresses: Informer<Ingress>;
  classes: Informer<IngressClass>;
  selection: ClassSelection;
  /** The address reported as this controller's: the node's, where the listener is reachable. */
  address: string;
  rateLimiter?: RateLimiter<string>;
  queueMetrics?: (name: string) => WorkQueueMetrics;
  onTrouble?: (e: Error, key?: string) => void;
}

/** Reads and writes of one Ingress at shutdown before its release is given up (others keep changing it). */
const RELEASE_ATTEMPTS = 3;

/**
 * ingress-nginx's status sync (internal/ingress/status): every Ingress this controller serves
 * lists its address in status.loadBalancer.ingress, so `kubectl get ingress` shows ADDRESS;
 * one it stops serving (class changed, class gone, default class moved) loses it. Writes go
 * through the status subresource with the Ingress's version as their cause.
 */
export class IngressStatusController extends QueueController {
  readonly name = 'ingress-status';
  private readonly ours: LoadBalancerIngress;

  constructor(private readonly o: IngressStatusOptions) {
    super({
      queueName: 'ingress_status',
      workers: 1,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.ours = statusEntry(o.address);
    o.ingresses.onChange((c) => {
      if (c.type !== 'deleted') this.queue.add(objectKey(c.object));
    });
    // A class created, changed or deleted may change which Ingresses are served.
    o.classes.onChange(() => this.enqueueAll());
  }

  protected enqueueAll(): void {
    for (const ing of this.o.ingresses.cache.list()) this.queue.add(objectKey(ing));
  }

  async sync(key: string): Promise<void> {
    const ing = this.o.ingresses.cache.get(key);
    if (ing) await this.write(ing, handlesIngress(ing, this.o.classes.cache, this.o.selection));
  }

  /**
   * Takes this controller's address off every Ingress (ingress-nginx's update-status-on-shutdown):
   * a controller that is gone must not be listed as where the Ingress is reachable.
   */
  async release(): Promise<void> {
    const results = await Promise.allSettled(
      this.o.ingresses.cache.list().map((ing) => this.releaseOne(ing)),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length)
      throw new Error(
        `removing ${label(this.ours)} from ${failed.length} Ingresses: ${String(failed[0].reason)}`,
      );
  }

  /**
   * The informer may not have this controller's own last write yet (it added its address a
   * moment before shutting down): the Ingress is read from the API, and read again if it
   * changed before the write.
   */
  private async releaseOne(cached: Ingress): Promise<void> {
    const { namespace, name } = cached.metadata;
    const path = resourcePath({ ...INGRESSES, namespace, name });
    for (let attempt = 1; ; attempt++) {
      const current = await this.o.api.getIfExists<Ingress>(path);
      if (!current) return;
      try {
        return await this.write(current, false);
      } catch (e) {
        if (attempt >= RELEASE_ATTEMPTS || !ApiError.isConflict((e as Error).cause)) throw e;
      }
    }
  }

  private async write(ing: Ingress, serving: boolean): Promise<void> {
    const next = statusToWrite(ing.status?.loadBalancer?.ingress, this.ours, serving);
    if (!next) return;
    const { namespace, name } = ing.metadata;
    try {
      await this.o.api.update(
        resourcePath({ ...INGRESSES, namespace, name, subresource: 'status' }),
        {
          ...ing,
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          status: { ...ing.status, loadBalancer: next.length ? { ingress: next } : {} },
        },
        { cause: Number(ing.metadata.resourceVersion) },
      );
    } catch (e) {
      // Deleted meanwhile: there is no status left to keep.
      if (ApiError.isNotFound(e)) return;
      throw new Error(`ingress status ${objectKey(ing)}: ${(e as Error).message}`, { cause: e });
    }
  }
}
