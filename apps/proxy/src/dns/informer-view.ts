import { type NatsConnection } from '@nats-io/transport-node';

import { type EventStreamOptions } from '@app/bus';
import { type ApiClient, Informer } from '@app/client';
import { type StoredObject } from '@app/event-store';

import {
  type ClusterView,
  clusterIPs,
  type EndpointSlice,
  type Service,
  sliceAddresses,
  sliceServiceKey,
} from './cluster-view.js';

export interface InformerViewOptions {
  api: ApiClient;
  nats: NatsConnection;
  stream?: EventStreamOptions;
  onTrouble?: (what: string, e: Error) => void;
}

/**
 * The cluster view behind the DNS server: informers on Services, EndpointSlices and Namespaces
 * with the indexes its lookups need (CoreDNS' dnsController keeps the same three, indexed by
 * service name, cluster IP and endpoint IP).
 */
export class InformerClusterView implements ClusterView {
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly namespaces: Informer<StoredObject>;
  /** When any of them last changed, in seconds: the SOA serial. */
  modified = Math.floor(Date.now() / 1000);

  constructor(o: InformerViewOptions) {
    const common = { api: o.api, nats: o.nats, stream: o.stream };
    const trouble = (what: string) => (e: Error) => o.onTrouble?.(what, e);
    this.services = new Informer<Service>({
      ...common,
      resource: { group: '', version: 'v1', plural: 'services' },
      indexers: { clusterIP: (s) => clusterIPs(s) },
      onTrouble: trouble('services informer'),
    });
    this.slices = new Informer<EndpointSlice>({
      ...common,
      resource: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
      indexers: {
        service: (s) => {
          const key = sliceServiceKey(s);
          return key ? [key] : [];
        },
        address: (s) => sliceAddresses(s),
      },
      onTrouble: trouble('endpointslices informer'),
    });
    this.namespaces = new Informer<StoredObject>({
      ...common,
      resource: { group: '', version: 'v1', plural: 'namespaces' },
      onTrouble: trouble('namespaces informer'),
    });
    const touch = () => (this.modified = Math.floor(Date.now() / 1000));
    this.services.onChange(touch);
    this.slices.onChange(touch);
    this.namespaces.onChange(touch);
  }

  /** Starts the informers; resolves once each has listed (answers before that would be NXDOMAIN). */
  async start(): Promise<void> {
    for (const i of [this.services, this.slices, this.namespaces]) i.start();
    await Promise.all([this.services.synced(), this.slices.synced(), this.namespaces.synced()]);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.services.stop(), this.slices.stop(), this.namespaces.stop()]);
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
