import { bySliceService, type Informer, type SharedInformers } from '@app/client';
import { type StoredObject } from '@app/event-store';

import {
  type ClusterView,
  clusterIPs,
  type EndpointSlice,
  type Service,
  sliceAddresses,
} from './cluster-view.js';

/**
 * The cluster view behind the DNS server: informers on Services, EndpointSlices and Namespaces
 * with the indexes its lookups need (CoreDNS' dnsController keeps the same three, indexed by
 * service name, cluster IP and endpoint IP). The informers are the process's shared ones.
 */
export class InformerClusterView implements ClusterView {
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly namespaces: Informer<StoredObject>;
  /** When any of them last changed, in seconds: the SOA serial. */
  modified = Math.floor(Date.now() / 1000);

  constructor(informers: SharedInformers) {
    this.services = informers.informer<Service>(
      { group: '', version: 'v1', plural: 'services' },
      { clusterIP: clusterIPs },
    );
    this.slices = informers.informer<EndpointSlice>(
      { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
      { service: bySliceService, address: sliceAddresses },
    );
    this.namespaces = informers.informer({ group: '', version: 'v1', plural: 'namespaces' });
    const touch = () => (this.modified = Math.floor(Date.now() / 1000));
    this.services.onChange(touch);
    this.slices.onChange(touch);
    this.namespaces.onChange(touch);
  }

  /** Starts the informers; resolves once each has listed (answers before that would be NXDOMAIN). */
  async start(): Promise<void> {
    const mine = [this.services, this.slices, this.namespaces];
    for (const i of mine) i.start();
    await Promise.all(mine.map((i) => i.synced()));
  }

  service(namespace: string, name: string): Service | undefined {
    return this.services.cache.get(`${namespace}/${name}`);
  }

  slicesOf(namespace: string, service: string): EndpointSlice[] {
    return this.slices.cache.byIndex('service', `${namespace}/${service}`);
  }

  namespaceExists(namespace: string): boolean {
    return this.namespaces.cache.get(namespace) !== undefined;
  }

  servicesByClusterIP(ip: string): Service[] {
    return this.services.cache.byIndex('clusterIP', ip);
  }

  slicesByAddress(ip: string): EndpointSlice[] {
    return this.slices.cache.byIndex('address', ip);
  }
}
