// A relay in its own process, so a test can kill -9 it mid-load.
// Env: DATABASE_URL, NATS_URL, STREAM, MAX_MESSAGES.
import { connect as natsConnect } from '@nats-io/transport-node';

import { Relay } from '@app/bus';
import { connect } from '@app/event-store/connection.js';

const sql = connect(process.env.DATABASE_URL as string, { max: 4, connection: { role: 'wake_app' } });
const nats = await natsConnect({
  servers: process.env.NATS_URL,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 100,
});
const relay = new Relay({
  sql,
  nats,
  pollMs: 100,
  stream: { name: process.env.STREAM, maxMessages: Number(process.env.MAX_MESSAGES ?? 1_000_000) },
  onHalt: (e) => {
    process.stderr.write(`HALT ${e.message}\n`);
    process.exit(3);
  },
});
await relay.start();
process.stdout.write('active\n');
process.on('SIGTERM', () => {
  void relay.stop().then(() => process.exit(0));
});
