import { type WatchItem } from '@app/bus';
import { type StoredEvent, type StoredObject } from '@app/event-store';

/** A hub stand-in: the test pushes items; `fail` ends the watch with an error. */
export class FakeHub {
  private readonly pending: WatchItem[] = [];
  private wake?: () => void;
  private error?: Error;
  private stopped = false;

  push(item: WatchItem): void {
    this.pending.push(item);
    this.wake?.();
  }

  fail(error: Error): void {
    this.error = error;
    this.wake?.();
  }

  watch() {
    return {
      seen: 0,
      stop: () => {
        this.stopped = true;
        this.wake?.();
      },
      batches: () => {
        throw new Error('not used');
      },
      [Symbol.asyncIterator]: () => this.items(),
    };
  }

  private async *items(): AsyncGenerator<WatchItem> {
    for (;;) {
      while (this.pending.length > 0) yield this.pending.shift() as WatchItem;
      if (this.error) throw this.error;
      if (this.stopped) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

export const event = (type: string, object: StoredObject, seq: number): WatchItem => ({
  kind: 'event',
  event: {
    seq,
    type,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    object,
  } as unknown as StoredEvent,
});
