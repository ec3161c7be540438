// `npm test`: installs what is missing, type-checks, lints, then runs every Jest project and
// ends with one line "N passed, N failed[, N skipped]" (also written to .wake-test/summary.txt).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { ensureAll } from './ensure.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, '.wake-test');

if (process.argv.includes('--help')) {
  console.log(`npm test [-- <jest args>]

Installs missing system packages (as root) and npm dependencies, type-checks, lints, then runs
the unit and integration tests (real PostgreSQL started on a free loopback port). Extra
arguments go to Jest, e.g. npm test -- --selectProjects unit`);
  process.exit(0);
}

function step(name, cmd, args) {
  process.stderr.write(`\n[test] ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  return r.status ?? 1;
}

function summary(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  return `${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

try {
  ensureAll();
} catch (e) {
  console.error(`[test] ${e.message}`);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });
const results = join(OUT, 'jest.json');
let rc = step('type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
rc = step('lint', 'npx', ['eslint', '.']) || rc;
const jest = step('unit and integration tests', process.execPath, [
  '--experimental-vm-modules',
  join(ROOT, 'node_modules/jest/bin/jest.js'),
  '--json',
  `--outputFile=${results}`,
  ...process.argv.slice(2),
]);
rc = jest || rc;
const line = summary(results) ?? '0 passed, 1 failed';
writeFileSync(join(OUT, 'summary.txt'), `${line}\n`);
if (rc !== 0 && jest === 0) process.stderr.write('[test] tests passed, but the type-check or lint failed\n');
console.log(line);
process.exit(rc);
