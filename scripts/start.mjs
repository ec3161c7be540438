// `npm start`: installs what is missing, builds, and runs `wake up` in the foreground
// (Ctrl-C stops it). Extra arguments go to `wake up`, e.g. npm start -- --data-dir /tmp/w
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

import { ensureAll, ensureKubectlPlugin } from './ensure.mjs';

const ROOT = resolve(import.meta.dirname, '..');
try {
  ensureAll({ build: true });
} catch (e) {
  console.error(`[start] ${e.message}`);
  process.exit(1);
}
try {
  ensureKubectlPlugin();
} catch (e) {
  // The cluster runs without the plugin; only `kubectl wake` is missing.
  console.error(`[start] kubectl plugin not installed: ${e.message}`);
}
const child = spawn(
  process.execPath,
  [join(ROOT, 'dist/apps/cli/apps/cli/src/main.js'), 'up', ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: ROOT,
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
