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
    const m = /^(.*)le="([^"]+)"\}$/.exec(series.slice(metric.length + 8));
    if (!m || !select(m[1])) continue;
    const le = m[2] === '+Inf' ? Infinity : Number(m[2]);
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
