import { type Sql } from 'postgres';

import { type ResourceRef } from '../model/index.js';

export interface RetentionPolicy {
  /** High-churn, low-audit kinds (Leases, Events) whose superseded payloads may expire. */
  kinds: ResourceRef[];
  /** How long a superseded payload is kept. */
  windowMs: number;
}

/** Kinds whose superseded payloads expire by default: node heartbeats and Events. */
export const DEFAULT_RETENTION_KINDS: ResourceRef[] = [
  { group: 'coordination.k8s.io', resource: 'leases' },
  { group: '', resource: 'events' },
  { group: 'events.k8s.io', resource: 'events' },
];

/**
 * Drops superseded payloads of high-churn kinds once they are older than the window. The
 * rows, their digests and the hash chain stay, so the log remains verifiable; the latest
 * version of every live object keeps its payload, so projections can still be rebuilt.
 */
export class PayloadExpiry {
  constructor(
    private readonly sql: Sql,
    private readonly policy: RetentionPolicy,
  ) {}

  /** Returns how many payloads it expired. */
  async run(now = new Date()): Promise<number> {
    if (this.policy.kinds.length === 0) return 0;
    const kinds = this.policy.kinds.map((k) => `${k.group}/${k.resource}`);
    const before = new Date(now.getTime() - this.policy.windowMs);
    const [row] = await this.sql<
      { n: number }[]
    >`SELECT wake.expire_payloads(${kinds}::text[], ${before}) AS n`;
    return Number(row.n);
  }
}
