import { waitFor } from '@app/dev-servers';

import { type DataDir, isAlive } from '../data-dir.js';

/** Stops a cluster started by `wake up` from this data directory (SIGTERM, graceful). */
export async function down(dataDir: DataDir): Promise<void> {
  const state = dataDir.readState();
  if (!state || !isAlive(state.pid)) {
    await dataDir.clearState();
    console.log(`no cluster runs from ${dataDir.root}`);
    return;
  }
  process.kill(state.pid, 'SIGTERM');
  await waitFor(`pid ${state.pid} to exit`, () => (isAlive(state.pid) ? undefined : true), {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  console.log(`stopped the cluster in ${dataDir.root}`);
}
