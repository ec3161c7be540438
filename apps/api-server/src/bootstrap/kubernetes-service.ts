import { type ResourceRegistry, type ResourceType, StatusError } from '@app/api';
import { type StoredObject, SYSTEM_ACTOR } from '@app/event-store';

import { type ObjectService } from '../objects/object-service.js';

export interface ApiEndpoint {
  /** The Service's ClusterIP (the first of the service range). */
  clusterIp: string;
  /** Where the API server itself listens. */
  address: string;
  port: number;
}

const ctx = { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver/kubernetes-service' };
const SERVICE_LABELS = { component: 'apiserver', provider: 'kubernetes' };

/**
 * The `kubernetes` Service in `default`, with its Endpoints and EndpointSlice pointing at this
 * API server: how pods reach the API (upstream's apiserver "master" endpoint reconciler).
 * Idempotent: creates what is missing, corrects what differs, leaves what is right alone.
 */
export async function ensureKubernetesService(
  objects: ObjectService,
  registry: ResourceRegistry,
  e: ApiEndpoint,
): Promise<void> {
  await upsert(
    objects,
    registry.get('', 'v1', 'services'),
    'kubernetes',
    {
      metadata: { name: 'kubernetes', namespace: 'default', labels: SERVICE_LABELS },
      spec: {
        type: 'ClusterIP',
        clusterIP: e.clusterIp,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: e.port }],
        sessionAffinity: 'None',
      },
    },
    (current) => ({
      ...current,
      spec: {
        ...(current.spec as object),
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: e.port }],
      },
    }),
  );
  const subsets = [
    { addresses: [{ ip: e.address }], ports: [{ name: 'https', port: e.port, protocol: 'TCP' }] },
  ];
  await upsert(
    objects,
    registry.get('', 'v1', 'endpoints'),
    'kubernetes',
    {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets,
    },
    (current) => ({ ...current, subsets }),
  );
  const slice = {
    addressType: 'IPv4',
    endpoints: [{ addresses: [e.address], conditions: { ready: true } }],
    ports: [{ name: 'https', port: e.port, protocol: 'TCP' }],
  };
  await upsert(
    objects,
    registry.get('discovery.k8s.io', 'v1', 'endpointslices'),
    'kubernetes',
    {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': 'kubernetes' },
      },
      ...slice,
    },
    (current) => ({ ...current, ...slice }),
  );
}

async function upsert(
  objects: ObjectService,
  t: ResourceType,
  name: string,
  initial: Record<string, unknown>,
  correct: (current: StoredObject) => StoredObject,
): Promise<void> {
  try {
    const current = await objects.get(t, 'default', name);
    // Writing the same content appends nothing: the store skips no-op updates.
    await objects.update(t, 'default', name, correct(current), ctx);
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
    await objects.create(t, 'default', initial, ctx).catch((e: unknown) => {
      if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
    });
  }
}
