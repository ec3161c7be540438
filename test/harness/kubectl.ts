import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's `kubectl` package puts its versioned binaries (and where else they may be). */
const KUBECTL_DIRS = [
  process.env.WAKE_KUBECTL_DIR,
  '/usr/lib/google-cloud-sdk/bin',
  '/usr/bin',
  '/usr/local/bin',
];

export function kubectlBinary(minor: number): string {
  for (const dir of KUBECTL_DIRS) {
    if (dir && existsSync(join(dir, `kubectl.1.${minor}`))) return join(dir, `kubectl.1.${minor}`);
  }
  throw new Error(
    `kubectl.1.${minor} not found in ${KUBECTL_DIRS.filter(Boolean).join(', ')} (apt-get install kubectl)`,
  );
}
