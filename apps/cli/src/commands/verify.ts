import { CheckpointFile, CheckpointSigner, EventStore } from '@app/event-store';

import { type DataDir } from '../data-dir.js';

/** Recomputes the hash chain and holds it against the signed checkpoints; exits 1 on tampering. */
export async function verify(dataDir: DataDir, databaseUrl?: string): Promise<number> {
  const state = dataDir.readState();
  const url = databaseUrl ?? state?.postgres.url;
  if (!url || !state) throw new Error(`no running cluster in ${dataDir.root}; pass --database-url`);
  const store = await EventStore.open({ url });
  try {
    const checkpoints = await new CheckpointFile(state.checkpoints.file).readAll();
    const signer = CheckpointSigner.verifier(state.checkpoints.publicKey);
    const report = await store.verify({
      checkpoints,
      signer,
      onProgress: (seq) => process.stderr.write(`\rverified ${seq} events`),
    });
    process.stderr.write('\n');
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
