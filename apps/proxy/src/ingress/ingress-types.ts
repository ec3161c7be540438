import { type StoredObject } from '@app/event-store';

// The Service and EndpointSlice shapes the rest of the proxy reads, so its informers serve here too.
export { type EndpointSlice, type Service } from '../api-types.js';

export const INGRESSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' };
export const INGRESS_CLASSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses' };
export const SERVICES = { group: '', version: 'v1', plural: 'services' };
export const ENDPOINT_SLICES = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };

/** networking/v1 IngressServiceBackend: a Service and one of its ports, by number or name. */
export interface IngressServiceBackend {
  name: string;
  port?: { number?: number; name?: string };
}

/** networking/v1 IngressBackend (a `resource` backend is not served by this controller). */
export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: { apiGroup?: string; kind: string; name: string };
}

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface HttpIngressPath {
  path?: string;
  pathType?: PathType;
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: HttpIngressPath[] };
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export type Ingress = StoredObject & {
  spec?: {
    ingressClassName?: string | null;
    defaultBackend?: IngressBackend;
    rules?: IngressRule[];
    tls?: unknown[];
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
};

export type IngressClass = StoredObject & { spec?: { controller?: string } };
