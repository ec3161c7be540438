import { RELAY_READY_LINE } from '../../apps/cli/src/commands/relay.js';
import { startComponent } from './component-process.js';

/** `wake relay` in its own process, as `wake up` runs it. */
export interface RelayProcess {
  pid: number;
  stop(): Promise<void>;
}

export async function startRelayProcess(
  databaseUrl: string,
  natsUrl: string,
  stream: { name: string; maxMessages: number },
): Promise<RelayProcess> {
  const args = ['relay', '--database-url', databaseUrl, '--nats-url', natsUrl, '--stream', stream.name];
  return startComponent('relay', [...args, '--max-messages', String(stream.maxMessages)], RELAY_READY_LINE);
}
