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
import { isNamespaceTerminating } from '../serviceaccount/namespace-terminating.js';

/** upstream's RootCACertConfigMapName. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };

interface ConfigMap extends StoredObject {
  data?: Record<string, string>;
}

export interface RootCaCertPublisherOptions {
  api: ApiClient;
  namespaces: Informer<Namespace>;
  configMaps: Informer<ConfigMap>;
  /** The CA bundle published (PEM): the kubeconfig's certificate-authority-data or --root-ca-file. */
  rootCa: string;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  /** The manager's workqueue metrics, by queue name. */
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The root-CA publisher (pkg/controller/certificates/rootcacertpublisher/publisher.go): a
 * `kube-root-ca.crt` ConfigMap with the cluster CA under `ca.crt` in every namespace, so pods
 * can verify the API server; restored when it is changed or deleted. One worker.
 */
export class RootCaCertPublisher extends QueueController {
  readonly name = 'root-ca-cert-publisher';

  constructor(private readonly o: RootCaCertPublisherOptions) {
    super({
      queueName: 'root_ca_cert_publisher',
      workers: 1,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    // configMapUpdated / configMapDeleted: only ours matters.
    o.configMaps.onChange((c) => {
      if (c.type !== 'added' && c.object.metadata.name === ROOT_CA_CONFIGMAP)
        this.queue.add(c.object.metadata.namespace ?? '');
    });
    // namespaceAdded: always; namespaceUpdated: only while active.
    o.namespaces.onChange((c) => {
      if (c.type === 'added' || (c.type === 'updated' && isActive(c.object)))
        this.queue.add(c.object.metadata.name ?? '');
    });
  }

  protected enqueueAll(): void {
    for (const ns of this.o.namespaces.cache.list()) this.queue.add(ns.metadata.name ?? '');
  }

  /** syncNamespace. */
  async sync(namespace: string): Promise<void> {
    const data = { 'ca.crt': this.o.rootCa };
    const cm = this.o.configMaps.cache.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    if (!cm) {
      const ns = this.o.namespaces.cache.get(namespace);
      // Gone from the cache: deleted, nothing to publish into.
      if (!ns) return;
      try {
        await this.o.api.create(
          resourcePath({ ...CONFIGMAPS, namespace }),
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
            data,
          },
          { cause: Number(ns.metadata.resourceVersion) },
        );
      } catch (e) {
        // Don't retry a create in a namespace that is gone or terminating.
        if (ApiError.isNotFound(e) || isNamespaceTerminating(e)) return;
        throw e;
      }
      return;
    }
    if (sameData(cm.data, data) && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return;
    await this.o.api.update(
      resourcePath({ ...CONFIGMAPS, namespace, name: ROOT_CA_CONFIGMAP }),
      {
        ...cm,
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          ...cm.metadata,
          annotations: { ...cm.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
        },
        data,
      },
      { cause: Number(cm.metadata.resourceVersion) },
    );
  }
}

/** reflect.DeepEqual of two string maps. */
function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const keys = Object.keys(a ?? {});
  return keys.length === Object.keys(b).length && keys.every((k) => a?.[k] === b[k]);
}
