import { parseArgs } from 'node:util';

import { down } from './commands/down.js';
import { relay } from './commands/relay.js';
import { status } from './commands/status.js';
import { up } from './commands/up.js';
import { verify } from './commands/verify.js';
import { DataDir } from './data-dir.js';

const HELP: Record<string, string> = {
  '': `wake — a Kubernetes-compatible orchestrator whose state is an append-only event log

usage: wake <command> [options]

commands:
  up        start a cluster (Postgres + event store, NATS JetStream + relay; more as they land)
  down      stop the cluster started from a data directory
  status    show the components, their URLs and memory
  verify    check the event log's hash chain against the signed checkpoints
  relay     run the relay alone: every committed event onto the JetStream event stream

'wake <command> --help' for a command's options.`,
  up: `usage: wake up [--detach] [--data-dir DIR] [--database-url URL] [--nats-url URL]

  --detach          return once the cluster is up; 'wake down' stops it
  --data-dir DIR    where Postgres, NATS, checkpoints and state live (default .wake)
  --database-url    use this PostgreSQL instead of starting one (also DATABASE_URL)
  --nats-url        use this JetStream-enabled NATS instead of starting one (also NATS_URL)`,
  down: 'usage: wake down [--data-dir DIR]',
  relay: `usage: wake relay --database-url URL --nats-url URL [--stream NAME] [--max-messages N]

Publishes every committed event of the log at URL onto the event stream, in order, once,
until SIGTERM. One relay is active per log; others wait. Exits ${'3'} if it halted because the
stream and the log disagree (a supervisor must not restart it then).

  --database-url    the event store's PostgreSQL (also DATABASE_URL)
  --nats-url        a JetStream-enabled NATS (also NATS_URL)
  --stream NAME     the event stream (default WAKE_EVENTS)
  --max-messages N  events the stream keeps, the hot tail (default 1000000)`,
  status: 'usage: wake status [--data-dir DIR] [--json]\n\nexits 0 when the cluster runs, 3 when it does not',
  verify:
    'usage: wake verify [--data-dir DIR] [--database-url URL]\n\nexits 0 when the log verifies, 1 when it does not',
};

async function main(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      help: { type: 'boolean', short: 'h' },
      detach: { type: 'boolean' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'nats-url': { type: 'string' },
      stream: { type: 'string' },
      'max-messages': { type: 'string' },
    },
  });
  if (command === '--help' || command === '-h' || values.help || !(command in HELP) || command === '') {
    console.log(HELP[command in HELP ? command : '']);
    return command === '' || command in HELP ? 0 : 2;
  }
  const dataDir = new DataDir(values['data-dir']);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  switch (command) {
    case 'up':
      await up({
        dataDir,
        detach: !!values.detach,
        databaseUrl,
        natsUrl: values['nats-url'] ?? process.env.NATS_URL,
      });
      return 0;
    case 'down':
      await down(dataDir);
      return 0;
    case 'status':
      return status(dataDir, !!values.json);
    case 'verify':
      return verify(dataDir, databaseUrl);
    case 'relay': {
      const natsUrl = values['nats-url'] ?? process.env.NATS_URL;
      if (!databaseUrl || !natsUrl) throw new Error('relay needs --database-url and --nats-url');
      return relay({
        databaseUrl,
        natsUrl,
        stream: values.stream,
        maxMessages: values['max-messages'] ? Number(values['max-messages']) : undefined,
      });
    }
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`wake: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
