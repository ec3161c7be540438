import type { IEndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import type { IService } from 'kubernetes-models/v1/Service';

import { bySliceService } from '@app/client';
import { type StoredObject } from '@app/event-store';

export type Service = IService & StoredObject;
export type EndpointSlice = IEndpointSlice & StoredObject;

/**
 * What the DNS records are computed from: the cluster's Services, EndpointSlices and
 * namespaces as the informers see them (CoreDNS' kubernetes plugin reads the same through its
 * dnsController). An interface so the record logic is tested on plain objects.
 */
export interface ClusterView {
  service(namespace: string, name: string): Service | undefined;
  /** The EndpointSlices labelled with the Service's name in its namespace. */
  slicesOf(namespace: string, service: string): EndpointSlice[];
  namespaceExists(namespace: string): boolean;
  /** Services whose clusterIPs include this address (PTR). */
  servicesByClusterIP(ip: string): Service[];
  /** EndpointSlices with an endpoint at this address (PTR). */
  slicesByAddress(ip: string): EndpointSlice[];
}

/** The address of each endpoint and the index value the informer files slices under. */
export function sliceAddresses(slice: EndpointSlice): string[] {
  return (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
}

/** `namespace/service` of the Service a slice belongs to (the informers' bySliceService index). */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  return bySliceService(slice)[0];
}

/** spec.clusterIPs, or the single spec.clusterIP of an object written before dual stack. */
export function clusterIPs(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? ''];
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}

/** A view over plain lists (unit tests, and anything holding objects already). */
export class StaticClusterView implements ClusterView {
  constructor(
    private readonly services: Service[],
    private readonly slices: EndpointSlice[],
    private readonly namespaces: string[],
  ) {}

  service(namespace: string, name: string): Service | undefined {
    return this.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  }

  slicesOf(namespace: string, service: string): EndpointSlice[] {
    return this.slices.filter((s) => sliceServiceKey(s) === `${namespace}/${service}`);
  }

  namespaceExists(namespace: string): boolean {
    return this.namespaces.includes(namespace);
  }

  servicesByClusterIP(ip: string): Service[] {
    return this.services.filter((s) => clusterIPs(s).includes(ip));
  }

  slicesByAddress(ip: string): EndpointSlice[] {
    return this.slices.filter((s) => sliceAddresses(s).includes(ip));
  }
}
