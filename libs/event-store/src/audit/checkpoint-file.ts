import { open, readFile } from 'node:fs/promises';

import { type Checkpoint } from './checkpoint-signer.js';

/** Checkpoints as JSON lines in an append-only file, each line fsynced before it counts. */
export class CheckpointFile {
  constructor(readonly path: string) {}

  async append(checkpoint: Checkpoint): Promise<void> {
    const file = await open(this.path, 'a', 0o644);
    try {
      await file.write(`${JSON.stringify(checkpoint)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }

  async readAll(): Promise<Checkpoint[]> {
    const text = await readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    return text
      .split('\n')
      .filter((line) => line.trim())
      .map((line, i) => {
        try {
          return JSON.parse(line) as Checkpoint;
        } catch (e) {
          throw new Error(`${this.path}:${i + 1}: not a checkpoint`, { cause: e });
        }
      });
  }

  async last(): Promise<Checkpoint | undefined> {
    const all = await this.readAll();
    return all[all.length - 1];
  }
}
