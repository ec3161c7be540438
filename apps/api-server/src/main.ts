import { parseArgs } from 'node:util';

import { runApiServer } from './run-api-server.js';

const HELP = `usage: wake-apiserver --database-url URL --nats-url URL --pki-dir DIR [options]

The Kubernetes API over HTTPS, its state in the event store, its watches from the event bus.

  --database-url URL     the event store's PostgreSQL (also DATABASE_URL)
  --nats-url URL         a JetStream-enabled NATS (also NATS_URL)
  --pki-dir DIR          CA, serving certificate and tokens (created on first start)
  --host ADDR            address to listen on (default 127.0.0.1)
  --port N               port to listen on (default 6443; 0: any free port)
  --kubeconfig FILE      write the admin kubeconfig here once listening
  --relay                also run the relay in this process (standalone use)
  --help                 this text

Prints "api-server listening on <url>" on stdout when ready; stops gracefully on SIGTERM.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      'nats-url': { type: 'string' },
      'pki-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      kubeconfig: { type: 'string' },
      relay: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  const natsUrl = values['nats-url'] ?? process.env.NATS_URL;
  const pkiDir = values['pki-dir'];
  if (!databaseUrl || !natsUrl || !pkiDir) {
    console.error(`${HELP}\n\nerror: --database-url, --nats-url and --pki-dir are required`);
    return 2;
  }
  return runApiServer({
    databaseUrl,
    natsUrl,
    pkiDir,
    host: values.host,
    port: values.port === undefined ? 6443 : Number(values.port),
    kubeconfigPath: values.kubeconfig,
    relay: values.relay,
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
