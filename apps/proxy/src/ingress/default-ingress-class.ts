import { type ApiClient, ApiError, resourcePath } from '@app/client';

import { DEFAULT_CLASS_ANNOTATION } from './class-selection.js';
import { INGRESS_CLASSES, type IngressClass } from './ingress-types.js';

/**
 * Makes sure the cluster has an IngressClass for this controller, as a packaged ingress
 * controller ships one (k3s' Traefik chart, ingress-nginx's manifests): when none names the
 * controller, `name` is created, marked the default class unless another class already is, so
 * Ingresses without a class are served out of the box. An existing class is never changed.
 */
export async function ensureIngressClass(api: ApiClient, name: string, controller: string): Promise<void> {
  const classes = await api.list<IngressClass>(resourcePath(INGRESS_CLASSES));
  if (classes.items.some((c) => c.spec?.controller === controller)) return;
  const anotherDefault = classes.items.some(
    (c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true',
  );
  try {
    await api.create(resourcePath(INGRESS_CLASSES), {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name,
        ...(anotherDefault ? {} : { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } }),
      },
      spec: { controller },
    });
  } catch (e) {
    // Another node's proxy created it first: the same class.
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}
