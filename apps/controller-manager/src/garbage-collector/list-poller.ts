import {
  type ApiClient,
  type ChangeHandler,
  type InformerResource,
  ObjectCache,
  resourcePath,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

/**
 * The graph's source for a kind the bus carries redacted (Secrets), which no Informer
 * follows: the kind is listed through the API every `intervalMs` and the cache's `replace`
 * reports what changed since the last list. Slower than an informer, never wrong for long.
 */
export class ListPoller {
  private readonly cache = new ObjectCache<StoredObject>();
  private readonly handlers: ChangeHandler<StoredObject>[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private listing?: Promise<void>;
  private markSynced!: () => void;
  private readonly syncedOnce = new Promise<void>((resolve) => (this.markSynced = resolve));
  private seq = 0;

  constructor(
    private readonly o: {
      api: ApiClient;
      resource: InformerResource;
      intervalMs: number;
      onTrouble?: (error: Error) => void;
    },
  ) {}

  onChange(handler: ChangeHandler<StoredObject>): this {
    this.handlers.push(handler);
    return this;
  }

  /** The resourceVersion of the last list. */
  get seen(): number {
    return this.seq;
  }

  synced(): Promise<void> {
    return this.syncedOnce;
  }

  start(): this {
    this.tick();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.listing;
  }

  private tick(): void {
    if (this.stopped) return;
    this.listing = this.list().finally(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.o.intervalMs);
    });
  }

  private async list(): Promise<void> {
    try {
      const list = await this.o.api.list<StoredObject>(resourcePath(this.o.resource));
      this.seq = Number(list.resourceVersion);
      for (const change of this.cache.replace(list.items))
        for (const handler of this.handlers) {
          try {
            handler(change);
          } catch (e) {
            this.o.onTrouble?.(e as Error);
          }
        }
      this.markSynced();
    } catch (e) {
      if (!this.stopped) this.o.onTrouble?.(e as Error);
    }
  }
}
