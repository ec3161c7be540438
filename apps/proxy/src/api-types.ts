import { type StoredObject } from '@app/event-store';
import type { IEndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import type { IService } from 'kubernetes-models/v1/Service';

/** The shapes the proxy reads, from kubernetes-models' declarations (type-only). */
export type Service = StoredObject & Pick<IService, 'spec' | 'status'>;
export type EndpointSlice = StoredObject & Pick<IEndpointSlice, 'addressType' | 'endpoints' | 'ports'>;
