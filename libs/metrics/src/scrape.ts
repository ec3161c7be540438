/** A scrape of Prometheus text: every sample by its full series name with labels. */
export type Scrape = Map<string, number>;

export function parseScrape(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * The q-quantile (0..1) of a histogram between two scrapes, over the series whose labels pass
 * `select`, interpolating within the bucket as Prometheus' histogram_quantile does.
 */
export function quantileBetween(
  before: Scrape,
  after: Scrape,
  metric: string,
  q: number,
  select: (labels: string) => boolean = () => true,
): { value: number; count: number } {
  const byLe = new Map<number, number>();
  for (const [series, value] of after) {
    if (!series.startsWith(`${metric}_bucket{`)) continue;
    // prom-client writes `le` first, Prometheus' Go client last: take it from anywhere, and
    // give `select` the other labels.
    const labels = series.slice(metric.length + 8, -1);
    const m = /(?:^|,)le="([^"]+)",?/.exec(labels);
    if (!m) continue;
    const rest =
      labels.slice(0, m.index) +
      (m.index > 0 && m.index + m[0].length < labels.length ? ',' : '') +
      labels.slice(m.index + m[0].length);
    if (!select(rest)) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    byLe.set(le, (byLe.get(le) ?? 0) + value - (before.get(series) ?? 0));
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return { value: NaN, count: 0 };
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return { value: lower, count: total };
      const inBucket = cumulative - below;
      return { value: lower + (le - lower) * (inBucket === 0 ? 0 : (rank - below) / inBucket), count: total };
    }
    lower = le;
    below = cumulative;
  }
  return { value: lower, count: total };
}

/**
 * The sum of `metric`'s samples whose labels include every one of `labels` (all of its samples
 * without labels given), 0 when it has none: a counter or gauge by the labels a caller cares about.
 */
export function sampleSum(scrape: Scrape, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of scrape) {
    const brace = series.indexOf('{');
    if ((brace === -1 ? series : series.slice(0, brace)) !== metric) continue;
    const text = brace === -1 ? '' : series.slice(brace + 1, -1);
    if (Object.entries(labels).every(([name, v]) => labelOf(text, name) === v)) sum += value;
  }
  return sum;
}

/** The value of label `name` in a series' label text (`verb="POST",resource="pods",…`), '' without it. */
export function labelValue(labels: string, name: string): string {
  return labelOf(labels, name) ?? '';
}

/** Label `name`'s value, undefined without it (`resource` is not `subresource`). */
function labelOf(labels: string, name: string): string | undefined {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1];
}

/**
 * The label sets of `metric`'s histogram series (its `le` aside) that received observations
 * between two scrapes, grouped by the labels `by` names: one key (values joined by `|`) each.
 */
export function seriesBetween(before: Scrape, after: Scrape, metric: string, by: string[]): string[] {
  return [...counterDeltas(before, after, `${metric}_count`, by)]
    .filter(([, grown]) => grown !== 0)
    .map(([key]) => key)
    .sort();
}

/**
 * How much counter `metric` grew between two scrapes, summed by the labels `by` names: one key
 * (values joined by `|`) each; a series new in `after` counts from zero.
 */
export function counterDeltas(
  before: Scrape,
  after: Scrape,
  metric: string,
  by: string[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of after) {
    if (!series.startsWith(`${metric}{`)) continue;
    const labels = series.slice(metric.length + 1, -1);
    const key = by.map((b) => labelValue(labels, b)).join('|');
    out.set(key, (out.get(key) ?? 0) + value - (before.get(series) ?? 0));
  }
  return out;
}
