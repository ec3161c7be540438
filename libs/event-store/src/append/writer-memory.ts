import { type KnownState, type LogHead } from './batch-planner.js';

/**
 * What the writer believes the log head and some objects are, so that it can plan a batch
 * without reading under the lock, and plan the next batch before the previous one committed.
 *
 * The belief is always "the state as of `head`": objects and head change only together (a
 * planned batch moves both; a failed one forgets both). Every write built from it is checked
 * in the database against the head's seq *and hash*, so a stale belief — another writer, a
 * failed batch ahead in the pipeline — can never commit: it costs one retry under the lock.
 */
export class WriterMemory {
  private known?: LogHead;
  private readonly objects = new Map<string, KnownState>();

  constructor(private readonly capacity: number) {}

  get head(): LogHead | undefined {
    return this.known;
  }

  /** The remembered state of `id`; `undefined` when not remembered. */
  get(id: string): KnownState | undefined {
    const state = this.objects.get(id);
    if (state !== undefined) {
      // Least recently used goes first: re-insert to move to the back of the Map's order.
      this.objects.delete(id);
      this.objects.set(id, state);
    }
    return state;
  }

  /** Remembers objects read from the database at the current head. */
  learn(states: Map<string, KnownState>): void {
    for (const [id, state] of states) this.put(id, state);
  }

  /** Moves the belief forward by a batch planned (or committed) on top of it. */
  advance(head: LogHead, changed: Map<string, KnownState>): void {
    this.known = head;
    for (const [id, state] of changed) this.put(id, state);
  }

  forget(): void {
    this.known = undefined;
    this.objects.clear();
  }

  private put(id: string, state: KnownState): void {
    this.objects.delete(id);
    this.objects.set(id, state);
    if (this.objects.size > this.capacity) {
      const oldest = this.objects.keys().next();
      if (!oldest.done) this.objects.delete(oldest.value);
    }
  }
}
