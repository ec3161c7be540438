import { EventStore } from '@app/event-store';

import { type ClusterState, type DataDir } from '../data-dir.js';

/** The log an audit command reads, and the cluster state it came from (absent with --database-url alone). */
export interface AuditLog {
  store: EventStore;
  state?: ClusterState;
}

/**
 * Opens the event store of the cluster `wake up` runs from `dataDir` (its state names the
 * database), or at `databaseUrl`; the caller closes it. Runs `fn` and closes the store after.
 */
export async function withAuditLog<T>(
  dataDir: DataDir,
  databaseUrl: string | undefined,
  fn: (log: AuditLog) => Promise<T>,
): Promise<T> {
  const state = dataDir.readState();
  const url = databaseUrl ?? state?.postgres.url;
  if (!url) throw new Error(`no running cluster in ${dataDir.root}; pass --data-dir or --database-url`);
  const store = await EventStore.open({ url });
  try {
    return await fn({ store, state });
  } finally {
    await store.close();
  }
}
