import { Agent } from 'node:https';

import { Http2Transport } from '@app/client';
import { httpsCall, type HttpsReply } from '@app/dev-servers';

import { type ApiServerProcess } from './api-server-process.js';

/** The benches' admin calls to the API server, over a connection (or connections) of their own. */
export interface ApiCaller {
  /** One request; a body that is no string is sent as JSON, `contentType` (e.g. a merge patch) over it. */
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<Pick<HttpsReply, 'status' | 'text'>>;
  /** The list's resourceVersion (a one-item page): where a watch of what follows starts. */
  listResourceVersion(path: string): Promise<string>;
  /** Ends its connections (they would keep the bench from exiting). */
  close(): void;
}

/**
 * Calls as client-go makes them: every request a stream on one HTTP/2 connection, at most
 * `maxInFlight` at once. WAKE_BENCH_HTTP1=1 uses HTTP/1.1 keep-alive connections instead (that
 * many sockets), to compare.
 */
export function apiCaller(
  server: Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>,
  maxInFlight: number,
): ApiCaller {
  const { call, close } = process.env.WAKE_BENCH_HTTP1
    ? http1(server, maxInFlight)
    : http2(server, maxInFlight);
  return {
    call,
    async listResourceVersion(path) {
      const r = await call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`);
      if (r.status !== 200) throw new Error(`listing ${path}: HTTP ${r.status} ${r.text}`);
      return (JSON.parse(r.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    },
    close,
  };
}

type Server = Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>;

function http2(server: Server, maxInFlight: number): Pick<ApiCaller, 'call' | 'close'> {
  const transport = new Http2Transport({
    server: server.url,
    caCert: server.caCert,
    timeoutMs: 60_000,
    maxInFlight,
  });
  return {
    call: (method, path, body, contentType) => {
      const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
      return transport.send(
        method,
        path,
        {
          accept: 'application/json',
          authorization: `Bearer ${server.token}`,
          ...(payload !== undefined ? { 'content-type': contentType ?? 'application/json' } : {}),
        },
        payload,
      );
    },
    close: () => transport.close(),
  };
}

function http1(server: Server, maxSockets: number): Pick<ApiCaller, 'call' | 'close'> {
  const agent = new Agent({ keepAlive: true, maxSockets, ca: server.caCert });
  return {
    call: (method, path, body, contentType) =>
      httpsCall({
        method,
        url: new URL(path, server.url),
        agent,
        body,
        headers: {
          authorization: `Bearer ${server.token}`,
          ...(contentType ? { 'content-type': contentType } : {}),
        },
      }),
    close: () => agent.destroy(),
  };
}
