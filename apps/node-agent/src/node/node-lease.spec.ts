import { describe, expect, it } from '@jest/globals';
import { ApiError, type ApiClient } from '@app/client';

import { NodeLeaseRenewer } from './node-lease.js';

/** Records the API calls a renewer makes; pure logic under test, so a fake client is enough. */
function fakeApi(o: { exists?: boolean } = {}) {
  const calls: string[] = [];
  let exists = o.exists ?? false;
  const stored = (body: object) => ({
    ...body,
    metadata: { name: 'n1', resourceVersion: String(calls.length) },
  });
  const api = {
    get: async () => {
      calls.push('GET');
      if (!exists) throw new ApiError(404, 'NotFound', 'no lease', {});
      return stored({ spec: { holderIdentity: 'n1' } });
    },
    create: async (_path: string, body: object) => {
      calls.push('POST');
      exists = true;
      return stored(body);
    },
    update: async (_path: string, body: object) => {
      calls.push('PUT');
      return stored(body);
    },
  } as unknown as ApiClient;
  return { api, calls };
}

describe('NodeLeaseRenewer', () => {
  it('creates a missing Lease and does not update it again in the same renewal (upstream sync)', async () => {
    const { api, calls } = fakeApi();
    const renewer = new NodeLeaseRenewer(api, {
      nodeName: 'n1',
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    const lease = await renewer.renew();
    expect(calls).toEqual(['GET', 'POST']);
    expect(lease.spec).toMatchObject({ holderIdentity: 'n1', renewTime: '2026-01-01T00:00:00.000000Z' });
    await renewer.renew();
    expect(calls).toEqual(['GET', 'POST', 'PUT']);
  });

  it('updates a Lease it found', async () => {
    const { api, calls } = fakeApi({ exists: true });
    await new NodeLeaseRenewer(api, { nodeName: 'n1' }).renew();
    expect(calls).toEqual(['GET', 'PUT']);
  });
});
