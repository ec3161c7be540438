import {
  type Checkpoint,
  CheckpointFile,
  CheckpointSigner,
  EventStore,
  type VerifyReport,
} from '@app/event-store';

import { type ClusterState, type DataDir } from '../data-dir.js';

/** Recomputes the hash chain and holds it against the signed checkpoints; exits 1 on tampering. */
export async function verify(dataDir: DataDir, databaseUrl?: string): Promise<number> {
  const state = dataDir.readState();
  const url = databaseUrl ?? state?.postgres.url;
  if (!url || !state) throw new Error(`no running cluster in ${dataDir.root}; pass --database-url`);
  const store = await EventStore.open({ url });
  try {
    const { report } = await verifyChain(store, state, (seq) =>
      process.stderr.write(`\rverified ${seq} events`),
    );
    process.stderr.write('\n');
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

/**
 * The chain check `wake verify` and `wake replay --verify` share: every link from seq 1, pinned
 * by the checkpoints `wake up` signed into the data directory (none without its state).
 */
export async function verifyChain(
  store: EventStore,
  state: ClusterState | undefined,
  onProgress?: (seq: number) => void,
): Promise<{ report: VerifyReport; checkpoints: Checkpoint[] }> {
  const checkpoints = state ? await new CheckpointFile(state.checkpoints.file).readAll() : [];
  const signer = state ? CheckpointSigner.verifier(state.checkpoints.publicKey) : undefined;
  const report = await store.verify({ checkpoints, signer, onProgress });
  return { report, checkpoints };
}
