import { type ResourceType, storageOf } from '@app/api';
import { eventFilter, type HubWatch, type WatchHub } from '@app/bus';
import { type EventStore, type StoredObject } from '@app/event-store';

/** One object as the cache holds it: parsed for selectors and Tables, and as the JSON text lists send. */
export interface CachedObject {
  readonly namespace: string;
  readonly name: string;
  readonly object: StoredObject;
  /**
   * Serialised at most once per change, so a list of 10,000 objects joins text instead of
   * encoding it; and only when first asked for, since most versions of a busy object are
   * replaced before any list or write reads them.
   */
  readonly json: string;
}

class Entry implements CachedObject {
  private text?: string;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly object: StoredObject,
  ) {}

  get json(): string {
    return (this.text ??= JSON.stringify(this.object));
  }
}

/**
 * The objects of one kind kept in memory and current (list, then watch from the list's
 * resourceVersion through the hub): what admission plugins read instead of querying Postgres
 * on every request, as upstream's plugins read their informers' listers, and what whole lists
 * are served from, as upstream's watch cache serves them (k8s.io/apiserver/pkg/storage/cacher).
 * It may lag a write by the time the event takes to come round; callers that must see a write
 * just made wait for it (`sync`) or fall back to a live read.
 */
export class KindCache {
  private readonly objects = new Map<string, CachedObject>();
  /** The same objects ordered by (namespace, name), as Postgres (COLLATE "C") lists them. */
  private readonly order: CachedObject[] = [];
  private watch?: HubWatch;
  private running?: Promise<void>;
  /** The log position the cache reflects. */
  private seen = 0;
  /** Set once the cache stopped following the log (stopped, or its watch failed): it no longer advances. */
  private ended = false;
  private markEnded!: () => void;
  /** Settles once the cache stops following the log: stopped, or its watch failed or ended. */
  readonly whenEnded = new Promise<void>((resolve) => (this.markEnded = resolve));
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
    for (const o of listed.items) this.put(o);
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
        if (e.type === 'DELETED') this.remove(e.namespace, e.name);
        else if (e.object) this.put(e.object as StoredObject);
        this.advance(e.seq);
        if (e.object) for (const l of this.listeners) l(e.type, e.object as StoredObject);
      }
    })()
      .catch(this.onError)
      .finally(() => this.end());
  }

  /** The log position (resourceVersion) the cache reflects. */
  get resourceVersion(): number {
    return this.seen;
  }

  /** False once the cache no longer follows the log: it must be replaced, not read. */
  get following(): boolean {
    return !this.ended;
  }

  /**
   * Waits until the cache reflects the log up to `rv` (a write this server made), so a read
   * right after a write sees it; false if that took longer than `timeoutMs` (read live then).
   * Always false once the cache stopped following: it may miss what other servers wrote since.
   */
  sync(rv: number, timeoutMs = 1_000): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
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
    return this.entry(namespace, name)?.object;
  }

  entry(namespace: string, name: string): CachedObject | undefined {
    return this.objects.get(id(this.type.namespaced ? namespace : '', name));
  }

  /** The objects (of one namespace, if given) in (namespace, name) order. */
  list(namespace?: string): StoredObject[] {
    return this.entries(namespace).map((e) => e.object);
  }

  /**
   * The cached objects (of one namespace, if given) in (namespace, name) order: a snapshot as
   * of `resourceVersion` read in the same tick (entries are replaced on change, never mutated).
   */
  entries(namespace?: string): CachedObject[] {
    return this.page(namespace);
  }

  /**
   * The first `limit` of `entries(namespace)` (all without one), found by binary search: a
   * page of a namespace costs the page, not the namespace.
   */
  page(namespace?: string, limit = Infinity): CachedObject[] {
    const [from, end] =
      namespace === undefined ? [0, this.order.length] : [this.indexOf(namespace, ''), this.endOf(namespace)];
    return this.order.slice(from, Math.min(end, from + limit));
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await this.running;
    this.end();
  }

  private put(object: StoredObject): void {
    const namespace = object.metadata.namespace ?? '';
    const name = String(object.metadata.name);
    const entry = new Entry(namespace, name, object);
    const key = id(namespace, name);
    const had = this.objects.has(key);
    this.objects.set(key, entry);
    const at = this.indexOf(namespace, name);
    if (had) this.order[at] = entry;
    else this.order.splice(at, 0, entry);
  }

  private remove(namespace: string | undefined, name: string): void {
    const key = id(namespace, name);
    if (!this.objects.delete(key)) return;
    this.order.splice(this.indexOf(namespace ?? '', name), 1);
  }

  /** Where (namespace, name) is or would go in `order`: the first entry not before it. */
  private indexOf(namespace: string, name: string): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.order[mid];
      const before = e.namespace !== namespace ? e.namespace < namespace : e.name < name;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Where the entries of `namespace` end in `order`: the first entry of a later namespace. */
  private endOf(namespace: string): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid].namespace <= namespace) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private advance(seq: number): void {
    if (seq <= this.seen) return;
    this.seen = seq;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.rv <= seq);
    this.waiters = this.waiters.filter((w) => w.rv > seq);
    for (const w of ready) w.resolve(true);
  }

  /** No more progress: whoever waits for a position learns now, not at their timeout. */
  private end(): void {
    this.ended = true;
    this.markEnded();
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.resolve(false);
  }
}

function id(namespace: string | undefined, name: unknown): string {
  return `${namespace ?? ''}/${String(name)}`;
}
