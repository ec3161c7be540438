import {
  ApiError,
  type ApiClient,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  type WorkQueueMetrics,
} from '@app/client';

import { QueueController } from '../controller.js';
import {
  desiredIngress,
  handlesService,
  type LbNode,
  type LbService,
  nodeLbAddress,
  sameIngress,
} from './lb-status.js';

const SERVICES = { group: '', version: 'v1', plural: 'services' };

/** A Service whose load-balancer status may need a write: a LoadBalancer, or one still carrying addresses to clear. */
const hasLoadBalancerStatus = (s: LbService) =>
  s.spec?.type === 'LoadBalancer' || (s.status?.loadBalancer?.ingress?.length ?? 0) > 0;

export interface ServiceLbControllerOptions {
  api: ApiClient;
  services: Informer<LbService>;
  nodes: Informer<LbNode>;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The LoadBalancer status controller (k3s pkg/servicelb, the klipper-lb role, minus its
 * DaemonSet: Wake's proxy already listens on every node's NodePorts, so a LoadBalancer needs
 * only its addresses reported). Every Service of type LoadBalancer without a class gets
 * status.loadBalancer.ingress = the Ready, schedulable nodes' addresses, kept current as nodes
 * come, go or change; a Service whose type changes away from LoadBalancer loses it.
 */
export class ServiceLbController extends QueueController {
  readonly name = 'service-lb';

  constructor(private readonly o: ServiceLbControllerOptions) {
    super({
      queueName: 'service_lb',
      // A sync is at most one status write, and only on a LoadBalancer or node change: one worker keeps up.
      workers: 1,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    o.services.onChange((c) => {
      if (c.type === 'deleted') return;
      if (hasLoadBalancerStatus(c.object) || (c.type === 'updated' && hasLoadBalancerStatus(c.old)))
        this.queue.add(objectKey(c.object));
    });
    o.nodes.onChange((c) => {
      if (c.type === 'updated' && nodeLbAddress(c.old) === nodeLbAddress(c.object)) return;
      this.enqueueLoadBalancers();
    });
  }

  protected enqueueAll(): void {
    for (const s of this.o.services.cache.list()) if (hasLoadBalancerStatus(s)) this.queue.add(objectKey(s));
  }

  /** A node change may move every LoadBalancer's addresses. */
  private enqueueLoadBalancers(): void {
    for (const s of this.o.services.cache.list()) if (handlesService(s)) this.queue.add(objectKey(s));
  }

  async sync(key: string): Promise<void> {
    const svc = this.o.services.cache.get(key);
    if (!svc) return;
    const desired = desiredIngress(svc, this.o.nodes.cache.list());
    if (desired === undefined || sameIngress(svc.status?.loadBalancer?.ingress, desired)) return;
    const { namespace, name } = svc.metadata;
    try {
      await this.o.api.update(
        resourcePath({ ...SERVICES, namespace, name, subresource: 'status' }),
        {
          ...svc,
          apiVersion: 'v1',
          kind: 'Service',
          status: { ...svc.status, loadBalancer: desired.length ? { ingress: desired } : {} },
        },
        { cause: Number(svc.metadata.resourceVersion) },
      );
    } catch (e) {
      // Deleted meanwhile: nothing left to report on.
      if (ApiError.isNotFound(e)) return;
      throw new Error(`service-lb ${key}: writing status.loadBalancer: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
}
