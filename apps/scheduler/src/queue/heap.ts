/** A binary min-heap by `less`, with removal by key (a queue's pods change and go while they wait). */
export class Heap<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds `item`, or replaces the item with its key and restores the order. */
  push(item: T): void {
    const key = this.keyOf(item);
    const at = this.index.get(key);
    if (at !== undefined) {
      this.items[at] = item;
      this.fix(at);
      return;
    }
    this.items.push(item);
    this.index.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  delete(key: string): T | undefined {
    const at = this.index.get(key);
    return at === undefined ? undefined : this.removeAt(at);
  }

  /** Every item, in no particular order. */
  values(): T[] {
    return [...this.items];
  }

  private removeAt(at: number): T {
    const item = this.items[at];
    const last = this.items.pop() as T;
    this.index.delete(this.keyOf(item));
    if (at < this.items.length) {
      this.items[at] = last;
      this.index.set(this.keyOf(last), at);
      this.fix(at);
    }
    return item;
  }

  private fix(at: number): void {
    if (!this.up(at)) this.down(at);
  }

  private up(at: number): boolean {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.items[i], this.items[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
    return i !== at;
  }

  private down(at: number): void {
    const n = this.items.length;
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.less(this.items[l], this.items[smallest])) smallest = l;
      if (r < n && this.less(this.items[r], this.items[smallest])) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const x = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = x;
    this.index.set(this.keyOf(this.items[a]), a);
    this.index.set(this.keyOf(this.items[b]), b);
  }
}
