import { type StoredObject } from '@app/event-store';

import { type OwnerReference } from '../owner-reference.js';
import { type ObjectReference } from '../endpoints/subsets.js';

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** discovery/v1 Endpoint. */
export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
  hints?: unknown;
}

/** discovery/v1 EndpointPort: every field set by this controller, name "" for an unnamed port. */
export interface SlicePort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

export type EndpointSlice = StoredObject & {
  metadata: StoredObject['metadata'] & { ownerReferences?: OwnerReference[]; generateName?: string };
  addressType: string;
  endpoints?: Endpoint[] | null;
  ports?: SlicePort[] | null;
};

export const ENDPOINT_SLICES = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };
/** discovery.LabelServiceName. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** discovery.LabelManagedBy and this controller's value of it (ControllerName). */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export function managedByController(slice: EndpointSlice): boolean {
  return slice.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME;
}
