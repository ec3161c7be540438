import {
  type ApiClient,
  ApiError,
  type Informer,
  type RateLimiter,
  resourcePath,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { isActive, type Namespace } from '../namespace/namespace-types.js';
import { QueueController } from '../controller.js';
import { isNamespaceTerminating } from './namespace-terminating.js';

/** The account pods run as when they name none. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

const SERVICE_ACCOUNTS = { group: '', version: 'v1', plural: 'serviceaccounts' };

export interface ServiceAccountsControllerOptions {
  api: ApiClient;
  namespaces: Informer<Namespace>;
  serviceAccounts: Informer;
  /** The accounts every namespace gets (upstream's ServiceAccounts option: `default`). */
  ensure?: string[];
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The service-account controller (pkg/controller/serviceaccount/serviceaccounts_controller.go):
 * every active namespace has a `default` ServiceAccount, made again when it is deleted. A
 * namespace being deleted gets none. One worker, as kube-controller-manager runs it.
 */
export class ServiceAccountsController extends QueueController {
  readonly name = 'serviceaccount';
  private readonly ensure: string[];

  constructor(private readonly o: ServiceAccountsControllerOptions) {
    super({
      queueName: 'serviceaccount',
      workers: 1,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    this.ensure = o.ensure ?? [DEFAULT_SERVICE_ACCOUNT];
    // serviceAccountDeleted: the namespace of a deleted account is looked at again.
    o.serviceAccounts.onChange((c) => {
      if (c.type === 'deleted') this.queue.add(c.object.metadata.namespace ?? '');
    });
    // namespaceAdded / namespaceUpdated.
    o.namespaces.onChange((c) => {
      if (c.type !== 'deleted') this.queue.add(c.object.metadata.name ?? '');
    });
  }

  protected enqueueAll(): void {
    for (const ns of this.o.namespaces.cache.list()) this.queue.add(ns.metadata.name ?? '');
  }

  /** syncNamespace. */
  async sync(namespace: string): Promise<void> {
    const ns = this.o.namespaces.cache.get(namespace);
    if (!ns || !isActive(ns)) return;
    const failures: Error[] = [];
    for (const name of this.ensure) {
      if (this.o.serviceAccounts.cache.get(`${namespace}/${name}`)) continue;
      await this.o.api
        .create<StoredObject>(
          resourcePath({ ...SERVICE_ACCOUNTS, namespace }),
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
          { cause: Number(ns.metadata.resourceVersion) },
        )
        .catch((e: unknown) => {
          // Made meanwhile (the cache is behind), or the namespace is going: nothing to do.
          if (e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists') return;
          if (isNamespaceTerminating(e)) return;
          failures.push(e as Error);
        });
    }
    if (failures.length) throw failures[0];
  }
}
