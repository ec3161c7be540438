import { type Logger } from '@nestjs/common';
import { type NatsConnection } from '@nats-io/transport-node';

export interface ConnectionStatusSink {
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
  /** A state for the owner's status stream: 'disconnected', 'reconnecting' or 'reconnected'. */
  onState(state: 'disconnected' | 'reconnecting' | 'reconnected', server?: string): void;
}

/**
 * Follows a NATS connection's status until it closes for good, logging what matters and
 * telling the owner (client or server) so it can update its own status and events.
 */
export async function followConnection(nc: NatsConnection, sink: ConnectionStatusSink): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case 'disconnect':
        sink.logger.warn({ msg: 'NATS disconnected', server: status.server });
        sink.onState('disconnected', status.server);
        break;
      case 'reconnecting':
        sink.onState('reconnecting');
        break;
      case 'reconnect':
        sink.logger.log({ msg: 'NATS reconnected', server: status.server });
        sink.onState('reconnected', status.server);
        break;
      case 'error':
        sink.logger.error({ msg: 'NATS error', error: String(status.error) });
        break;
      case 'slowConsumer':
        sink.logger.warn({ msg: 'NATS slow consumer', pending: status.pending });
        break;
      default:
        break;
    }
  }
}
