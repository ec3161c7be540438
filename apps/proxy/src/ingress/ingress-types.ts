import { type StoredObject } from '@app/event-store';

export type { EndpointSlice } from '../../../controller-manager/src/endpointslice/slice-types.js';
export {
  ENDPOINT_SLICES,
  SERVICE_NAME_LABEL,
} from '../../../controller-manager/src/endpointslice/slice-types.js';

export const INGRESSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' };
export const INGRESS_CLASSES = { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses' };
export const SERVICES = { group: '', version: 'v1', plural: 'services' };

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

/** The parts of a core/v1 Service the ingress controller reads: its ports, to resolve a backend's. */
export type Service = StoredObject & {
  spec?: { type?: string; ports?: { name?: string; port: number; protocol?: string }[] };
};
