import { type ResourceRegistry, StatusError } from '@app/api';
import { SYSTEM_ACTOR } from '@app/event-store';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';
import { PerNamespaceReconciler } from './per-namespace.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/**
 * Keeps a `kube-root-ca.crt` ConfigMap with the cluster CA in every namespace, so pods can
 * verify the API server (upstream's root-ca-cert-publisher). Level-triggered: a pass over all
 * namespaces at start, then one namespace at a time as namespaces are added or the map changes.
 */
export class RootCaPublisher extends PerNamespaceReconciler {
  constructor(
    private readonly objects: ObjectService,
    private readonly registry: ResourceRegistry,
    namespaces: KindCache,
    private readonly caCert: string,
    onError: (e: unknown) => void,
  ) {
    super(namespaces, onError);
  }

  protected async reconcile(namespace: string): Promise<void> {
    const configmaps = this.registry.get('', 'v1', 'configmaps');
    const data = { 'ca.crt': this.caCert };
    const ctx = { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver/root-ca-publisher' };
    try {
      const current = await this.objects.get(configmaps, namespace, ROOT_CA_CONFIGMAP);
      if ((current.data as Record<string, string> | undefined)?.['ca.crt'] === this.caCert) return;
      await this.objects.update(configmaps, namespace, ROOT_CA_CONFIGMAP, { ...current, data }, ctx);
    } catch (e) {
      if (!(e instanceof StatusError && e.reason === 'NotFound')) throw e;
      await this.objects
        .create(
          configmaps,
          namespace,
          {
            metadata: {
              name: ROOT_CA_CONFIGMAP,
              annotations: {
                'kubernetes.io/description':
                  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
              },
            },
            data,
          },
          ctx,
        )
        .catch((err: unknown) => {
          // Gone (namespace deleted) or terminating, or created meanwhile: nothing to do.
          if (!(
            err instanceof StatusError && ['AlreadyExists', 'NotFound', 'Forbidden'].includes(err.reason)
          ))
            throw err;
        });
    }
  }
}
