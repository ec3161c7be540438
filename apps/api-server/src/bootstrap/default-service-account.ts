import { type ResourceRegistry, StatusError } from '@app/api';
import { SYSTEM_ACTOR } from '@app/event-store';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';
import { PerNamespaceReconciler } from './per-namespace.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * Keeps a `default` ServiceAccount in every namespace, the one pods run as unless they name
 * another, and makes it again when it is deleted (upstream's serviceaccounts-controller in
 * kube-controller-manager, pkg/controller/serviceaccount/serviceaccounts_controller.go; it
 * moves there once Wake has a controller manager).
 */
export class DefaultServiceAccountPublisher extends PerNamespaceReconciler {
  private stopWatchingAccounts?: () => void;

  constructor(
    private readonly objects: ObjectService,
    private readonly registry: ResourceRegistry,
    namespaces: KindCache,
    /** The service accounts kept in memory: a deleted `default` is seen there. */
    private readonly serviceAccounts: KindCache,
    onError: (e: unknown) => void,
  ) {
    super(namespaces, onError);
  }

  override async start(): Promise<void> {
    this.stopWatchingAccounts = this.serviceAccounts.onChange((type, sa) => {
      if (type === 'DELETED' && sa.metadata.name === DEFAULT_SERVICE_ACCOUNT)
        this.enqueue(String(sa.metadata.namespace));
    });
    await super.start();
  }

  override async stop(): Promise<void> {
    this.stopWatchingAccounts?.();
    await super.stop();
  }

  protected async reconcile(namespace: string): Promise<void> {
    const serviceAccounts = this.registry.get('', 'v1', 'serviceaccounts');
    const ctx = { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver/serviceaccounts-controller' };
    // The account cache answers without a read; one it has not caught up with yet makes the
    // create below fail AlreadyExists, which is fine, and a deletion it sees queues us again.
    if (this.serviceAccounts.get(namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    await this.objects
      .create(serviceAccounts, namespace, { metadata: { name: DEFAULT_SERVICE_ACCOUNT } }, ctx)
      .catch((err: unknown) => {
        // Gone (namespace deleted) or terminating, or created meanwhile: nothing to do.
        if (!(err instanceof StatusError && ['AlreadyExists', 'NotFound', 'Forbidden'].includes(err.reason)))
          throw err;
      });
  }
}
