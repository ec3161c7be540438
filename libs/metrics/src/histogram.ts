import { labelKey } from './label-key.js';

/** Upstream's buckets for apiserver_request_duration_seconds (seconds). */
export const REQUEST_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

interface Series {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

/** A Prometheus histogram with labels, rendered in the text exposition format. */
export class Histogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[] = REQUEST_BUCKETS,
  ) {}

  /** Without labels: one series (the per-delivery watch histogram builds no key). */
  observe(seconds: number, labels?: Record<string, string>): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s)
      this.series.set(
        key,
        (s = { labels: key, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }),
      );
    // Cumulative buckets are summed at render time; here each observation lands in one.
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]) i++;
    if (i < this.buckets.length) s.counts[i]++;
    s.sum += seconds;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      const sep = s.labels ? ',' : '';
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        lines.push(`${this.name}_bucket{${s.labels}${sep}le="${le}"} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{${s.labels}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${s.labels ? `{${s.labels}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${s.labels ? `{${s.labels}}` : ''} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
