import { type RetentionPolicy } from './retention/payload-expiry.js';

export interface EventStoreOptions {
  /**
   * Connection URL of the schema owner: runs migrations and the audit work (replay). In a
   * production setup this is a privileged role distinct from the one the app writes with.
   */
  url: string;
  /**
   * Connection URL of the application role. Default: `url`, with every connection switched to
   * `appRole` at start-up (`-c role=...`), so the app can never UPDATE or DELETE an event.
   */
  appUrl?: string;
  appRole?: string;
  /** Connections in the application pool (reads run beside the single appending connection). */
  poolSize?: number;
  /** Most mutations committed in one transaction. */
  maxBatch?: number;
  /**
   * Batches the writer may have planned and sent but not yet committed (1: no pipelining).
   * Each batch takes an even share of the waiting and in-flight requests, so at 32 writers on
   * 2 cores, 2 runs two alternating batches of 16: Node plans one while Postgres writes the
   * other (three interleaved bench pairs against taking the whole queue, which alternated 31
   * and 1: 3,422-4,463 -> 5,198-5,288 appends/s).
   */
  pipelineDepth?: number;
  /** Objects the writer remembers so it can plan without reading them back. */
  writerMemory?: number;
  /** Events per partition of the log. */
  partitionSize?: number;
  retention?: RetentionPolicy;
}

export const EVENT_STORE_DEFAULTS = {
  appRole: 'wake_app',
  poolSize: 10,
  maxBatch: 256,
  pipelineDepth: 2,
  writerMemory: 20_000,
  partitionSize: 1_000_000,
} as const;
