/** Latency percentiles from a sample, in the sample's unit. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  return {
    count: arr.length,
    p50: percentile(arr, 50),
    p90: percentile(arr, 90),
    p99: percentile(arr, 99),
    max: arr[arr.length - 1] ?? NaN,
  };
}

/**
 * The p99 of the latencies of the writes started in each second from `from` (epoch ms): a
 * steady state and a backlog that built and drained can have the same overall p99, not the
 * same seconds.
 */
export function p99BySecond(sentAt: Float64Array, latency: Float64Array, from: number): number[] {
  const seconds: number[][] = [];
  for (let i = 0; i < sentAt.length; i++)
    (seconds[Math.floor((sentAt[i] - from) / 1000)] ??= []).push(latency[i]);
  return Array.from(seconds, (s) =>
    s
      ? percentile(
          s.sort((a, b) => a - b),
          99,
        )
      : NaN,
  );
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The median of a[i] ÷ b[i] over pairs measured side by side (a proxied round and its direct
 * twin): robust to load that changes between rounds, which a ratio of medians is not.
 */
export function medianRatio(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new RangeError(`medianRatio: ${a.length} values against ${b.length}`);
  const ratios = a.map((x, i) => x / b[i]).filter((r) => Number.isFinite(r));
  if (ratios.length === 0) return NaN;
  const sorted = ratios.sort((x, y) => x - y);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[Math.floor(mid)];
}

/**
 * Microseconds per unit of work of `f` (which returns how many units one call did) over
 * `seconds`: the median of 5 runs, after a warm-up run.
 */
export function microseconds(f: () => number, seconds: number): number {
  const runs: number[] = [];
  for (let run = 0; run <= 5; run++) {
    let calls = 0;
    const t0 = performance.now();
    const until = t0 + (seconds * 1000) / 6;
    while (performance.now() < until) calls += f();
    if (run > 0) runs.push(((performance.now() - t0) * 1000) / calls);
  }
  return runs.sort((a, b) => a - b)[2];
}
