export interface TimerWheelOptions<K> {
  /** The wheel's resolution: a key fires in the first tick at or after its due time. */
  tickMs: number;
  /** Told of the keys due, in the order they became due (earliest slot first). */
  onDue: (keys: K[]) => void;
  now?: () => number;
}

/**
 * A hashed timer wheel: thousands of timers (a Lease renewal per simulated node, a stage per
 * pod) on one interval, instead of one setTimeout each. Each key has at most one pending
 * time; scheduling it again moves it. KWOK does the same with a weighted delaying queue
 * (kwok pkg/utils/queue).
 */
export class TimerWheel<K> {
  /** Slot (absolute tick number) → keys due in it. */
  private readonly slots = new Map<number, Set<K>>();
  private readonly pending = new Map<K, number>();
  private readonly now: () => number;
  private lastTick: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: TimerWheelOptions<K>) {
    this.now = o.now ?? Date.now;
    this.lastTick = Math.floor(this.now() / o.tickMs);
  }

  get size(): number {
    return this.pending.size;
  }

  has(key: K): boolean {
    return this.pending.has(key);
  }

  /** Fires `key` after `delayMs` (rounded up to the wheel's resolution), replacing any earlier schedule. */
  schedule(key: K, delayMs: number): void {
    this.cancel(key);
    // Never into a slot already passed: the next fire() must see it.
    const slot = Math.max(this.lastTick + 1, Math.ceil((this.now() + Math.max(0, delayMs)) / this.o.tickMs));
    let keys = this.slots.get(slot);
    if (!keys) this.slots.set(slot, (keys = new Set()));
    keys.add(key);
    this.pending.set(key, slot);
  }

  cancel(key: K): void {
    const slot = this.pending.get(key);
    if (slot === undefined) return;
    this.pending.delete(key);
    const keys = this.slots.get(slot);
    keys?.delete(key);
    if (keys?.size === 0) this.slots.delete(slot);
  }

  /** Hands every key due by `now` to onDue; returns how many. The interval calls it; tests call it with their own clock. */
  fire(now = this.now()): number {
    const upTo = Math.floor(now / this.o.tickMs);
    if (upTo <= this.lastTick) return 0;
    const due: K[] = [];
    const take = (slot: number) => {
      const keys = this.slots.get(slot);
      if (!keys) return;
      this.slots.delete(slot);
      for (const k of keys) {
        this.pending.delete(k);
        due.push(k);
      }
    };
    if (upTo - this.lastTick <= this.slots.size) {
      for (let slot = this.lastTick + 1; slot <= upTo; slot++) take(slot);
    } else {
      // A long pause (a blocked event loop): walk the occupied slots, not every tick since.
      for (const slot of [...this.slots.keys()].filter((s) => s <= upTo).sort((a, b) => a - b)) take(slot);
    }
    this.lastTick = upTo;
    if (due.length) this.o.onDue(due);
    return due.length;
  }

  start(): void {
    this.timer ??= setInterval(() => this.fire(), this.o.tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * `d` stretched by up to `factor` of itself (apimachinery's wait.Jitter, which the lease
 * controller runs with 0.04): renewals of nodes registered together drift apart.
 */
export function jittered(d: number, factor: number, random: () => number = Math.random): number {
  return d + random() * factor * d;
}
