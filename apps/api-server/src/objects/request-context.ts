import { type AuditContext } from '@app/event-store';

/** Who asks, and why: the audit context of the event a write appends, minus the verb. */
export type RequestContext = Omit<AuditContext, 'verb'>;

/** The object's `metadata.namespace` and `metadata.name` as the path addressed them. */
export interface ObjectAddress {
  namespace: string;
  name: string;
}
