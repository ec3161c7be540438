import { describe, expect, it } from '@jest/globals';

import { ApiClient, NotLeaderError } from './api-client.js';

describe('ApiClient leader fence', () => {
  // Nothing listens here: a write that were sent would fail with a connection error instead.
  const connection = { server: 'https://127.0.0.1:1', caCert: '', token: 't' };

  it('refuses a write, unsent, when the replica elects a leader and does not lead', async () => {
    const api = new ApiClient(connection, { userAgent: 'test', fence: () => null, timeoutMs: 500 });
    await expect(api.create('/api/v1/namespaces/x/pods', {})).rejects.toBeInstanceOf(NotLeaderError);
    await expect(api.delete('/api/v1/namespaces/x/pods/p')).rejects.toThrow(/does not hold its leader lease/);
    api.close();
  });

  it('still reads while not leading (informers run on standby replicas)', async () => {
    const api = new ApiClient(connection, { userAgent: 'test', fence: () => null, timeoutMs: 500 });
    await expect(api.get('/api/v1/pods')).rejects.not.toBeInstanceOf(NotLeaderError);
    api.close();
  });
});
