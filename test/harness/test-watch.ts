import { connect, type NatsConnection } from '@nats-io/transport-node';

import { ApiClient, byNamespace, type CacheChange, Informer } from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type ApiCluster } from './api-cluster.js';

/** A test's own informer, independent of the components under test, and what closes it. */
export interface TestWatch<T extends StoredObject> {
  informer: Informer<T>;
  close(): Promise<void>;
}

/**
 * Follows one resource as the admin, through its own API client and bus connection (list, then
 * watch; indexed by namespace), so a test observes every change the components make. Resolves
 * once the informer has synced.
 */
export async function watchForTest<T extends StoredObject>(
  cluster: Pick<ApiCluster, 'connection' | 'natsUrl'>,
  resource: { group: string; version: string; plural: string },
  onChange?: (c: CacheChange<T>) => void,
): Promise<TestWatch<T>> {
  const api = new ApiClient(cluster.connection, { userAgent: `test-watch/${resource.plural}` });
  let nats: NatsConnection | undefined;
  try {
    nats = await connect({ servers: cluster.natsUrl });
    const informer = new Informer<T>({ api, nats, resource, indexers: { namespace: byNamespace } });
    if (onChange) informer.onChange(onChange);
    informer.start();
    await informer.synced();
    const connection = nats;
    return {
      informer,
      close: async () => {
        await informer.stop();
        await connection.close();
        api.close();
      },
    };
  } catch (e) {
    await nats?.close();
    api.close();
    throw e;
  }
}
