import { type FactoryProvider } from '@nestjs/common';
import { type NatsConnection } from '@nats-io/transport-node';

import { ApiClient } from '../api/api-client.js';

/**
 * A provider that closes a component's API client and NATS connection when the application
 * shuts down: Nest calls onApplicationShutdown after every beforeApplicationShutdown hook, so
 * the connections outlive the informers and workers that use them.
 */
export function connectionsClosedLast(natsToken: symbol): FactoryProvider {
  return {
    provide: Symbol('ConnectionsClosedLast'),
    inject: [ApiClient, natsToken],
    useFactory: (api: ApiClient, nats: NatsConnection) => ({
      onApplicationShutdown: async () => {
        api.close();
        await nats.close();
      },
    }),
  };
}
