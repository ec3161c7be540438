import { type ApiConnection } from '@app/client';
import { type StoredObject } from '@app/event-store';

import { watchForTest } from '../../test/harness/test-watch.js';

interface Slice extends StoredObject {
  metadata: StoredObject['metadata'] & { labels?: Record<string, string> };
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
}

export interface ReadinessFlip {
  /** performance.now() when the change reached this process. */
  at: number;
  ready: boolean;
}

/**
 * When the EndpointSlices of `service` change whether `ip` is a ready endpoint, seen by an
 * informer over the bus as the proxy's own informer sees them (an API watch would add the API
 * server's relay and arrive later than the proxy's copy). Ready as the proxy counts it
 * (conditions.ready absent or true); absent from every slice counts as not ready.
 */
export async function watchSliceReadiness(
  connection: ApiConnection,
  natsUrl: string,
  o: { namespace: string; service: string; ip: string },
): Promise<{ flips: ReadinessFlip[]; close(): Promise<void> }> {
  const { informer, close } = await watchForTest<Slice>(
    { connection, natsUrl },
    { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
  );
  const readyNow = () =>
    informer.cache
      .list()
      .filter(
        (s) =>
          s.metadata.namespace === o.namespace &&
          s.metadata.labels?.['kubernetes.io/service-name'] === o.service,
      )
      .some((s) =>
        (s.endpoints ?? []).some((e) => e.addresses.includes(o.ip) && e.conditions?.ready !== false),
      );
  // What the initial list reported is the starting state; flips are the changes after it.
  const flips: ReadinessFlip[] = [];
  let last = readyNow();
  informer.onChange(() => {
    const ready = readyNow();
    if (ready !== last) flips.push({ at: performance.now(), ready });
    last = ready;
  });
  return { flips, close };
}
