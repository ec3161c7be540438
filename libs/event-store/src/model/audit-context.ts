import { type ObjectKey } from './object-key.js';

/** Who made a change: the authenticated user as the API server saw it. */
export interface Actor {
  user: string;
  uid?: string;
  groups: string[];
  /** How the user proved who they are, e.g. `token:sha256:ab12…` or `x509:CN=admin`; never a secret. */
  credential?: string;
  /** Upstream's user-info extras, e.g. the pod a service-account token is bound to. */
  extra?: Record<string, string[]>;
  /** Who made the request acting as this user (`kubectl --as`): the audit's "user" beside "impersonatedUser". */
  impersonator?: { user: string; groups: string[] };
  /**
   * What authorized the request (upstream's `authorization.k8s.io/reason` audit annotation),
   * e.g. `RBAC: allowed by RoleBinding "r/team" of Role "r" to User "jane"`; absent for
   * system:masters, whom RBAC does not consult.
   */
  authorizedBy?: string;
}

/**
 * A leader's fence: a write holds only while the Lease `lease` still has `transitions` as its
 * `spec.leaseTransitions`. Checked against the very log head the write commits on, so a
 * deposed leader (the lease moved on) can never write, however late its request arrives.
 */
export interface LeaderFence {
  lease: ObjectKey;
  transitions: number;
}

/** Who, what, why: recorded with every event (DESIGN invariant 7). */
export interface AuditContext {
  actor: Actor;
  /** The API verb: create, update, patch, delete, deletecollection, ... */
  verb: string;
  requestId?: string;
  userAgent?: string;
  sourceIp?: string;
  /** The seq of the event a controller was reacting to, so causal chains can be walked. */
  cause?: number;
  /** Refuse the write unless this leadership still holds (not recorded in the event). */
  fence?: LeaderFence;
}

export const SYSTEM_ACTOR: Actor = { user: 'system:wake', groups: ['system:masters'] };
