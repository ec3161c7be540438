// `npm run wake -- <command>`: the wake CLI. A clone that was never built (no `npm start` or
// `npm test` yet) is set up and built first, instead of failing on a missing dist/ file; an
// existing build is used as it is (`npm run build` after changing the code).
import { existsSync } from 'node:fs';

import { CLI_MAIN, runCli } from './cli.mjs';
import { ensureAll } from './ensure.mjs';

if (!existsSync(CLI_MAIN)) {
  try {
    ensureAll({ build: true });
  } catch (e) {
    console.error(`[wake] ${e.message}`);
    process.exit(1);
  }
}
runCli(process.argv.slice(2));
