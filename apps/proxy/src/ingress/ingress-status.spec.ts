import { describe, expect, it } from '@jest/globals';

import { ApiError, type ApiClient, type Informer } from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type ClassSelection } from './class-selection.js';
import { IngressStatusController } from './ingress-status.js';
import { type Ingress, type IngressClass } from './ingress-types.js';

/** An Ingress `shop` whose status lists these hostnames. */
function ingress(resourceVersion: string, hostnames: string[]): Ingress {
  return {
    metadata: { namespace: 'web', name: 'shop', resourceVersion },
    spec: {},
    status: { loadBalancer: { ingress: hostnames.map((hostname) => ({ hostname })) } },
  } as Ingress;
}

/** An informer that only lists (the controller is never started here). */
function informerOf<T extends StoredObject>(items: T[]): Informer<T> {
  return {
    onChange: () => undefined,
    cache: { list: () => items, get: () => undefined },
  } as unknown as Informer<T>;
}

describe('IngressStatusController.release', () => {
  it('takes its address off what the API has, not what its informer last saw, and reads again on a conflict', async () => {
    // The informer has not seen this controller's own last write (its address added), and
    // another writer changes the Ingress between the first read and the write.
    const stale = ingress('5', ['node-a.example.com']);
    const reads = [
      ingress('6', ['node-a.example.com', 'node-b.example.com']),
      ingress('7', ['node-a.example.com', 'node-b.example.com', 'node-c.example.com']),
    ];
    const writes: Ingress[] = [];
    const api = {
      getIfExists: async () => reads.shift() ?? reads.at(-1),
      update: async (_path: string, body: Ingress) => {
        writes.push(body);
        if (writes.length === 1) throw new ApiError(409, 'Conflict', 'the object has been modified', {});
        return body;
      },
    } as unknown as ApiClient;
    const controller = new IngressStatusController({
      api,
      ingresses: informerOf([stale]),
      classes: informerOf<IngressClass>([]),
      selection: {} as ClassSelection,
      address: 'node-b.example.com',
    });
    await controller.release();
    expect(writes.map((w) => [w.metadata.resourceVersion, w.status?.loadBalancer?.ingress])).toEqual([
      ['6', [{ hostname: 'node-a.example.com' }]],
      ['7', [{ hostname: 'node-a.example.com' }, { hostname: 'node-c.example.com' }]],
    ]);
  });
});
