import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { algorithmOf, keyIdOf, type SigningKey } from './jwt.js';

/** The files kubeadm uses for the service-account key pair (`--service-account-signing-key-file`). */
export const SERVICE_ACCOUNT_KEY_FILE = 'sa.key';
export const SERVICE_ACCOUNT_PUBLIC_KEY_FILE = 'sa.pub';

/**
 * The key service-account tokens are signed with, made on first start (ECDSA P-256, so ES256)
 * and reused afterwards, so tokens issued before a restart stay valid. An RSA key put there
 * instead (kubeadm makes RSA) is used as it is, with RS256.
 */
export async function ensureServiceAccountKey(dir: string): Promise<SigningKey> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, SERVICE_ACCOUNT_KEY_FILE);
  if (!existsSync(keyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(
      join(dir, SERVICE_ACCOUNT_PUBLIC_KEY_FILE),
      publicKey.export({ type: 'spki', format: 'pem' }),
    );
  }
  const privateKey = createPrivateKey(await readFile(keyFile, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  return { alg: algorithmOf(privateKey), kid: keyIdOf(publicKey), privateKey, publicKey };
}
