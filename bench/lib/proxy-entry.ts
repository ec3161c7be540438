// The proxy process of the proxy bench: runProxy (what `wake proxy` runs) with the bench's
// config as JSON in argv[2]; prints PROXY_READY_LINE when ready, removes its rules on SIGTERM.
import { runProxy } from '../../apps/proxy/src/run-proxy.js';

const config = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof runProxy>[0];
runProxy(config).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`proxy: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
