import {
  type AuditContext,
  EventStore,
  type StoredEvent,
  type EventStoreOptions,
  type ObjectKey,
  type StoredObject,
} from '@app/event-store';
import { type TestDatabase, testDatabase } from '@app/testing';

export interface StoreFixture {
  db: TestDatabase;
  store: EventStore;
  close(): Promise<void>;
}

/** A fresh database with a migrated event store, for one suite. */
export async function openStore(options: Partial<EventStoreOptions> = {}): Promise<StoreFixture> {
  const db = await testDatabase('es');
  const store = await EventStore.open({ url: db.url, ...options });
  return {
    db,
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

export const ctx = (user = 'alice', extra: Partial<AuditContext> = {}): AuditContext => ({
  actor: { user, groups: ['system:authenticated'] },
  verb: 'create',
  requestId: 'req-1',
  userAgent: 'jest',
  sourceIp: '127.0.0.1',
  ...extra,
});

export const cm = (namespace: string, name: string): ObjectKey => ({
  group: '',
  resource: 'configmaps',
  namespace,
  name,
});

export function configMap(
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): StoredObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

/** Every event of the store's log, in seq order. */
export async function wholeLog(store: EventStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let cursor = 0; ;) {
    const page = await store.events.after(cursor, 5000);
    if (!page.length) return out;
    out.push(...page);
    cursor = page[page.length - 1].seq;
  }
}
