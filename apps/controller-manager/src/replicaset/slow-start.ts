/** controller.SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

/**
 * slowStartBatch (pkg/controller/replicaset/replica_set.go): runs `fn` `count` times in
 * batches of 1, 2, 4, ... (each batch concurrently), stopping after the first batch with an
 * error, so a quota or webhook that refuses every pod costs one call, not hundreds.
 * Returns how many calls succeeded and the first error.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: () => Promise<void>,
  onBatch?: (size: number) => void,
): Promise<{ successes: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let size = Math.min(remaining, initialBatchSize); size > 0; size = Math.min(2 * size, remaining)) {
    onBatch?.(size);
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += size - failed.length;
    if (failed.length > 0) return { successes, error: failed[0].reason as Error };
    remaining -= size;
  }
  return { successes };
}
