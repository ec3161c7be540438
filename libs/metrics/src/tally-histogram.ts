import { type Registry } from 'prom-client';

/**
 * An unlabelled Prometheus histogram for hot paths: `observe` is a bucket search and three
 * additions, with no label hashing and no exemplar handling (prom-client's Histogram spends
 * several times that per observation). A watch fan-out observes once per event per watcher,
 * hundreds of thousands of times a second; everything else should use prom-client's.
 */
export class TallyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is added. */
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(buckets.length + 1);
    // prom-client's registry takes any object with the metric interface; it is typed for its own classes.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(value: number): void {
    // Not an observation (a commit time that did not parse); prom-client would throw, and a
    // watch must not fail over its metric.
    if (Number.isNaN(value)) return;
    const b = this.buckets;
    let lo = 0;
    let hi = b.length;
    // The first bound >= value (le is inclusive); hi = b.length is +Inf.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]++;
    this.sum += value;
    this.count++;
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  } {
    const values = [];
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += this.counts[i];
      const le = i < this.buckets.length ? this.buckets[i] : '+Inf';
      values.push({ metricName: `${this.name}_bucket`, labels: { le }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
