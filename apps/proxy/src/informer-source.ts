import { connect } from '@nats-io/transport-node';

import { type EventStreamOptions } from '@app/bus';
import { ApiClient, type ApiConnection, SharedInformers } from '@app/client';

/**
 * Where a component of the proxy process (cluster DNS, ingress controller) gets its informers:
 * the process's shared ones (each kind listed and followed once), or, started alone, its own
 * over a connection of its own.
 */
export type InformerSource =
  | { informers: SharedInformers }
  | { connection: ApiConnection; natsUrl: string; stream?: EventStreamOptions };

export interface OpenedInformers {
  informers: SharedInformers;
  /** Stops and closes what was opened here; shared informers are their owner's to stop. */
  close(): Promise<void>;
}

export async function openInformers(
  source: InformerSource,
  o: { userAgent: string; maxInFlight?: number; onTrouble: (what: string, e: Error) => void },
): Promise<OpenedInformers> {
  if ('informers' in source) return { informers: source.informers, close: async () => undefined };
  const api = new ApiClient(source.connection, { userAgent: o.userAgent, maxInFlight: o.maxInFlight });
  const nats = await connect({ servers: source.natsUrl, maxReconnectAttempts: -1 }).catch((e: unknown) => {
    api.close();
    throw e;
  });
  const informers = new SharedInformers({ api, nats, stream: source.stream, onTrouble: o.onTrouble });
  return {
    informers,
    close: async () => {
      await informers.stop();
      api.close();
      await nats.close();
    },
  };
}
