import { type Actor } from './audit-context.js';
import { type StoredObject } from './stored-object.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One row of the log: the full object after the change, and who/what/why/when. */
export interface StoredEvent {
  seq: number;
  /** ISO-8601 with milliseconds; never decreases along the log. */
  at: string;
  type: EventType;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  uid: string;
  /** null once retention has expired a superseded payload of a high-churn kind. */
  object: StoredObject | null;
  objectDigest: string;
  actor: Actor;
  verb: string;
  requestId: string | null;
  userAgent: string | null;
  sourceIp: string | null;
  cause: number | null;
  prevHash: string;
  hash: string;
}
