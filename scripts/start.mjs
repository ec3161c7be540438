// `npm start`: installs what is missing, builds, and runs `wake up` in the foreground
// (Ctrl-C stops it). Extra arguments go to `wake up`, e.g. npm start -- --data-dir /tmp/w
import { runCli } from './cli.mjs';
import { ensureAll, ensureKubectlPlugin } from './ensure.mjs';

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
runCli(['up', ...process.argv.slice(2)]);
