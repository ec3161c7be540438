import { Agent } from 'node:https';

import { httpsCall, type HttpsReply } from '@app/dev-servers';

import { type ApiServerProcess } from './api-server-process.js';

/** The benches' admin calls to the API server, over keep-alive connections of their own. */
export interface ApiCaller {
  /** One request; a body that is no string is sent as JSON, `contentType` (e.g. a merge patch) over it. */
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<HttpsReply>;
  /** The list's resourceVersion (a one-item page): where a watch of what follows starts. */
  listResourceVersion(path: string): Promise<string>;
  /** Ends its idle keep-alive sockets (they would keep the bench from exiting). */
  close(): void;
}

export function apiCaller(
  server: Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>,
  maxSockets: number,
): ApiCaller {
  const agent = new Agent({ keepAlive: true, maxSockets, ca: server.caCert });
  const call: ApiCaller['call'] = (method, path, body, contentType) =>
    httpsCall({
      method,
      url: new URL(path, server.url),
      agent,
      body,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
    });
  return {
    call,
    async listResourceVersion(path) {
      const r = await call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`);
      if (r.status !== 200) throw new Error(`listing ${path}: HTTP ${r.status} ${r.text}`);
      return (JSON.parse(r.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    },
    close: () => agent.destroy(),
  };
}
