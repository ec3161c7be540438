import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A signed statement "the log's chain head at seq N is hash H", kept outside Postgres. */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  /** Base64 Ed25519 signature over `checkpointMessage(...)`. */
  signature: string;
}

export function checkpointMessage(c: Pick<Checkpoint, 'seq' | 'hash' | 'at'>): Buffer {
  return Buffer.from(`wake-event-log\n${c.seq}\n${c.hash}\n${c.at}\n`);
}

/**
 * Signs checkpoints with an Ed25519 key that lives in a file, not in the database: a database
 * superuser who rewrites a suffix of the log and re-chains it consistently still cannot forge
 * the signature over the old head.
 */
export class CheckpointSigner {
  private constructor(
    private readonly privateKey: KeyObject | undefined,
    readonly publicKey: KeyObject,
  ) {}

  /** Loads the key pair at `keyFile`, creating it (mode 0600) on first use. */
  static async fromFile(keyFile: string): Promise<CheckpointSigner> {
    if (!existsSync(keyFile)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      await mkdir(dirname(keyFile), { recursive: true });
      await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
        mode: 0o600,
        flag: 'wx',
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
    const privateKey = createPrivateKey(await readFile(keyFile));
    return new CheckpointSigner(privateKey, createPublicKey(privateKey));
  }

  /** A verifier only: holds the public key (e.g. an auditor's copy). */
  static verifier(publicKeyPem: string): CheckpointSigner {
    return new CheckpointSigner(undefined, createPublicKey(publicKeyPem));
  }

  publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  sign(head: Pick<Checkpoint, 'seq' | 'hash' | 'at'>): Checkpoint {
    if (!this.privateKey) throw new Error('this checkpoint signer holds only a public key');
    return { ...head, signature: sign(null, checkpointMessage(head), this.privateKey).toString('base64') };
  }

  isValid(c: Checkpoint): boolean {
    return verify(null, checkpointMessage(c), this.publicKey, Buffer.from(c.signature, 'base64'));
  }
}
