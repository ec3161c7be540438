import { type ResourceType } from '@app/api';
import { type Actor, type StoredObject } from '@app/event-store';

export type AdmissionOperation = 'create' | 'update' | 'delete';

export interface AdmissionRequest {
  operation: AdmissionOperation;
  type: ResourceType;
  namespace: string;
  /** The object as it would be stored (create, update), mutable by mutating plugins. */
  object?: StoredObject;
  /** The stored object (update, delete). */
  old?: StoredObject;
  subresource?: string;
  /** Who asks (RBAC's escalation checks are about what the requester holds). */
  actor: Actor;
}

/**
 * A built-in admission plugin: may mutate `object` (defaults that depend on cluster state) and
 * refuse the request by throwing a StatusError. Runs after defaulting, before validation.
 */
export interface AdmissionPlugin {
  readonly name: string;
  admit(request: AdmissionRequest): Promise<void>;
}
