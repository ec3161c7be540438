// Runs the built `wake` CLI as a child with these arguments, passing Ctrl-C and SIGTERM on and
// exiting as it exits (`npm start` and `npm run wake` both end here).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
export const CLI_MAIN = join(ROOT, 'dist/apps/cli/apps/cli/src/main.js');

export function runCli(args) {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: 'inherit', cwd: ROOT });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
