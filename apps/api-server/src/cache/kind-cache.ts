import { type ResourceType, storageOf } from '@app/api';
import { eventFilter, type HubWatch, type WatchHub } from '@app/bus';
import { type EventStore, type StoredObject } from '@app/event-store';

/**
 * The objects of one kind kept in memory and current (list, then watch from the list's
 * resourceVersion through the hub): what admission plugins read instead of querying Postgres
 * on every request, as upstream's plugins read their informers' listers. It may lag a write by
 * the time the event takes to come round; callers that must see a write just made fall back
 * to a live read on a miss.
 */
export class KindCache {
  private readonly objects = new Map<string, StoredObject>();
  private watch?: HubWatch;
  private running?: Promise<void>;
  /** The log position the cache reflects. */
  private seen = 0;
  private waiters: { rv: number; resolve: (ok: boolean) => void }[] = [];
  private readonly listeners = new Set<(type: string, object: StoredObject) => void>();

  constructor(
    private readonly store: EventStore,
    private readonly hub: WatchHub,
    readonly type: ResourceType,
    private readonly onError: (e: unknown) => void,
  ) {}

  async start(): Promise<void> {
    const s = storageOf(this.type);
    const listed = await this.store.list(s);
    for (const o of listed.items) this.objects.set(id(o.metadata.namespace, o.metadata.name), o);
    this.advance(listed.resourceVersion);
    const watch = this.hub.watch({
      after: listed.resourceVersion,
      filter: eventFilter({ resource: s.resource, group: s.group }),
    });
    this.watch = watch;
    this.running = (async () => {
      for await (const item of watch) {
        if (item.kind !== 'event') {
          this.advance(item.seq);
          continue;
        }
        const e = item.event;
        const key = id(e.namespace, e.name);
        if (e.type === 'DELETED') this.objects.delete(key);
        else if (e.object) this.objects.set(key, e.object as StoredObject);
        this.advance(e.seq);
        if (e.object) for (const l of this.listeners) l(e.type, e.object as StoredObject);
      }
    })().catch(this.onError);
  }

  /**
   * Waits until the cache reflects the log up to `rv` (a write this server made), so a read
   * right after a write sees it; false if that took longer than `timeoutMs` (read live then).
   */
  sync(rv: number, timeoutMs = 1_000): Promise<boolean> {
    if (this.seen >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { rv, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  /** Calls `listener` with every change the cache takes in from now on; returns the unsubscribe. */
  onChange(listener: (type: string, object: StoredObject) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(namespace: string, name: string): StoredObject | undefined {
    return this.objects.get(id(this.type.namespaced ? namespace : '', name));
  }

  list(namespace?: string): StoredObject[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await this.running;
  }

  private advance(seq: number): void {
    if (seq <= this.seen) return;
    this.seen = seq;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.rv <= seq);
    this.waiters = this.waiters.filter((w) => w.rv > seq);
    for (const w of ready) w.resolve(true);
  }
}

function id(namespace: string | undefined, name: unknown): string {
  return `${namespace ?? ''}/${String(name)}`;
}
