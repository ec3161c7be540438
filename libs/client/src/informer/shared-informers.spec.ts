import { describe, expect, it } from '@jest/globals';
import { type NatsConnection } from '@nats-io/transport-node';

import { type ApiClient } from '../api/api-client.js';
import { byNamespace, bySliceService } from '../cache/indexers.js';
import { SharedInformers } from './shared-informers.js';

const SLICES = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };

// Nothing here starts an informer, so neither connection is ever used.
const shared = () => new SharedInformers({ api: {} as ApiClient, nats: {} as NatsConnection });

describe('SharedInformers', () => {
  it('hands every asker of a resource the one informer, with each asker’s indexes on its cache', () => {
    const informers = shared();
    const proxy = informers.informer(SLICES, { service: bySliceService });
    const ingress = informers.informer(SLICES, { service: bySliceService, namespace: byNamespace });
    expect(ingress).toBe(proxy);
    proxy.cache.upsert({
      metadata: { namespace: 'ns', name: 'web-x', labels: { 'kubernetes.io/service-name': 'web' } },
    });
    expect(proxy.cache.byIndex('service', 'ns/web').map((s) => s.metadata.name)).toEqual(['web-x']);
    expect(proxy.cache.byIndex('namespace', 'ns').map((s) => s.metadata.name)).toEqual(['web-x']);
    expect(informers.informer({ group: '', version: 'v1', plural: 'services' })).not.toBe(proxy);
  });
});
