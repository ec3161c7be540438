import { type Head } from '../read/resource-reader.js';
import { type CheckpointFile } from './checkpoint-file.js';
import { type Checkpoint, type CheckpointSigner } from './checkpoint-signer.js';

/**
 * Periodically signs the chain head and appends it to a file outside Postgres (DESIGN §4), so
 * that even a database superuser cannot rewrite a suffix of the log unnoticed.
 */
export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private lastSeq = -1;

  constructor(
    private readonly head: () => Promise<Head>,
    private readonly signer: CheckpointSigner,
    private readonly file: CheckpointFile,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  /** Signs and stores the current head if the log has grown since the last checkpoint. */
  async checkpoint(): Promise<Checkpoint | undefined> {
    if (this.lastSeq < 0) this.lastSeq = (await this.file.last())?.seq ?? 0;
    const head = await this.head();
    if (head.seq <= this.lastSeq) return undefined;
    const checkpoint = this.signer.sign(head);
    await this.file.append(checkpoint);
    this.lastSeq = head.seq;
    return checkpoint;
  }

  start(intervalMs: number): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.checkpoint()
        .catch(this.onError)
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
