import { type Sql } from 'postgres';

/** Postgres: "no partition of relation ... found for row". */
export function isMissingPartition(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23514' && /no partition of relation/.test(err.message ?? '');
}

/**
 * Keeps range partitions of `events` ahead of the head, so appends never wait on DDL. Old
 * partitions can be detached and archived whole; see DESIGN §4.
 */
export class PartitionManager {
  private coveredUpTo = 0;
  private ensuring?: Promise<void>;

  constructor(
    private readonly sql: Sql,
    private readonly partitionSize: number,
  ) {}

  /**
   * Creates partitions so that seq `upTo` plus one partition of headroom is covered. `force`
   * asks the database even when this process believes the range is covered (an insert just
   * proved otherwise).
   */
  async ensure(upTo: number, force = false): Promise<void> {
    if (!force && upTo + this.partitionSize / 2 < this.coveredUpTo) return;
    this.ensuring ??= (async () => {
      const [row] = await this.sql<{ covered: number }[]>`
        SELECT wake.ensure_event_partitions(${upTo + this.partitionSize}) AS covered`;
      this.coveredUpTo = Number(row.covered);
    })().finally(() => (this.ensuring = undefined));
    await this.ensuring;
  }

  /** Partitions and their seq ranges, oldest first. */
  async list(): Promise<{ name: string; from: number; to: number }[]> {
    const rows = await this.sql<{ name: string; bound: string }[]>`
      SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'wake.events'::regclass`;
    return rows
      .map((r) => {
        const [, from, to] = /FROM \('?(\d+)'?\) TO \('?(\d+)'?\)/.exec(r.bound) ?? [];
        return { name: r.name, from: Number(from), to: Number(to) };
      })
      .sort((a, b) => a.from - b.from);
  }
}
