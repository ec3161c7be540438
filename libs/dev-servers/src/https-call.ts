import { type Agent, request } from 'node:https';

export interface HttpsCall {
  method: string;
  url: URL;
  /** The cluster CA (when no agent carries it). */
  ca?: string;
  agent?: Agent;
  headers?: Record<string, string | number>;
  /** Sent as is when a string or Buffer, as JSON otherwise (with its Content-Type). */
  body?: unknown;
  /** No answer within this long fails the call (a hang is a failure, not a wait). Default 60 s. */
  timeoutMs?: number;
}

export interface HttpsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTPS request to a Wake API server, its whole answer read as text: what the test harness
 * and the benches both need, and nothing a general client would add (no retries, no redirects).
 */
export function httpsCall(call: HttpsCall): Promise<HttpsReply> {
  const { body } = call;
  const payload =
    body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const jsonType = payload !== undefined && payload !== body ? { 'content-type': 'application/json' } : {};
  return new Promise((resolve, reject) => {
    const req = request(
      call.url,
      {
        method: call.method,
        ...(call.agent ? { agent: call.agent } : { ca: call.ca }),
        headers: {
          accept: 'application/json',
          ...jsonType,
          ...(payload !== undefined ? { 'content-length': Buffer.byteLength(payload) } : {}),
          ...call.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    const timeoutMs = call.timeoutMs ?? 60_000;
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${call.method} ${call.url.pathname}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}
