export { NOTIFY_CHANNEL } from './schema/migrations.js';
export * from './append/mutation.js';
// The writer's pure planning step, public for its benchmark (bench/planner.bench.ts).
export { type KnownState, type LogHead, planBatch } from './append/batch-planner.js';
export { objectText } from './append/object-text.js';
export * from './audit/chain-verifier.js';
export * from './audit/checkpoint-file.js';
export * from './audit/checkpoint-signer.js';
export * from './audit/checkpointer.js';
export * from './chain/index.js';
export { connect as connectPostgres, splitSocket } from './connection.js';
export * from './event-store.js';
export * from './model/index.js';
export * from './options.js';
export * from './read/continue-token.js';
export * from './read/event-reader.js';
export * from './read/list-options.js';
export * from './read/resource-reader.js';
export * from './replay/object-history.js';
// The store's objectsAt() and causalChain() methods are the way in; only the options type is public.
export type { ObjectsAtOptions } from './replay/objects-at.js';
export * from './replay/projection-replayer.js';
export * from './retention/payload-expiry.js';
