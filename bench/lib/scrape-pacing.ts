/**
 * How long to wait before the next scrape of the scheduler's metrics: 50 ms until the first pod
 * is scheduled and again near the end (the two samples the rate is measured between), and in
 * between a quarter of the time the rest should take at the rate so far, at most a second.
 * A scrape costs the measured scheduler CPU (it renders every histogram and reads its process
 * figures); 50 ms throughout was some 130 scrapes a run. Upstream's throughput collector
 * samples once a second.
 */
export function scrapeDelayMs(
  first: { at: number; count: number } | undefined,
  last: { at: number; count: number },
  want: number,
): number {
  if (!first || last.count <= first.count) return 50;
  const rate = (last.count - first.count) / (last.at - first.at);
  return Math.min(1000, Math.max(50, (want - last.count) / rate / 4));
}
