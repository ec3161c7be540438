import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { type Container } from '../../api-types.js';
import { dialErrorText, type HandlerOutcome, joinHostPort, MAX_PROBE_OUTPUT } from './outcome.js';
import { resolveContainerPort } from './port.js';

type HTTPGetAction = NonNullable<NonNullable<Container['livenessProbe']>['httpGet']>;

/** One probe's GET: the URL and headers the kubelet would send. */
export interface HttpProbeRequest {
  url: URL;
  /** Canonical header names, each with its values in order. */
  headers: Record<string, string[]>;
}

/** Redirects within one host are followed up to this many times (Go's client default). */
const MAX_REDIRECTS = 10;
const FOLLOWED_REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The request of an httpGet action (pkg/probe/http/request.go NewRequestForHTTPGetAction):
 * scheme defaulting to http, host to the pod IP, the port by number or by name, the path as
 * given (a query string included), the action's headers, and `User-Agent: kube-probe/<major>.
 * <minor>` and `Accept: *\/*` unless the action sets them (an empty Accept removes it).
 */
export function httpGetRequest(
  action: HTTPGetAction,
  container: Container,
  podIP: string | undefined,
  userAgent: string,
): HttpProbeRequest {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || podIP;
  // Upstream would dial ":port", that is this very node; the agent must not probe itself.
  if (!host) throw new Error('the pod has no IP yet and the probe names no host');
  const port = resolveContainerPort(action.port, container);
  const base = `${scheme}://${joinHostPort(host, port)}`;
  // Upstream parses the path as a URL reference; an unparseable one is used as a bare path.
  let url: URL;
  try {
    url = new URL(action.path ?? '', base);
  } catch {
    url = new URL(base);
    url.pathname = action.path ?? '';
  }
  if (url.host !== new URL(base).host || url.protocol !== `${scheme}:`) {
    // An absolute URL in `path`: upstream keeps its path and query but not its host.
    url = new URL(`${url.pathname}${url.search}`, base);
  }
  const headers: Record<string, string[]> = {};
  for (const h of action.httpHeaders ?? []) (headers[canonicalHeaderKey(h.name)] ??= []).push(h.value);
  headers['User-Agent'] ??= [userAgent];
  if (!headers['Accept']) headers['Accept'] = ['*/*'];
  else if (headers['Accept'][0] === '') delete headers['Accept'];
  return { url, headers };
}

/** Go's CanonicalMIMEHeaderKey: `x-custom-header` → `X-Custom-Header`. */
function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * An httpGet probe (pkg/probe/http/http.go DoHTTPProbe with the kubelet's client): 200–399
 * succeeds with the body (read up to 10 KiB); a redirect to the same host is followed, one to
 * another host is not and counts as a success with a warning; other codes fail with
 * `HTTP probe failed with statuscode: N`; transport errors and the timeout, which covers the
 * whole exchange as Go's Client.Timeout does, fail quoting Go's error. HTTPS skips
 * certificate verification, no keep-alive, no proxy, no compression, as upstream.
 */
export async function httpProbe(req: HttpProbeRequest, timeoutMs: number): Promise<HandlerOutcome> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    let url = req.url;
    let headers = req.headers;
    for (let redirects = 0; ; redirects++) {
      const res = await get(url, headers, deadline.signal);
      const location = res.headers.location;
      if (FOLLOWED_REDIRECTS.has(res.statusCode ?? 0) && location) {
        const next = new URL(location, url);
        // Upstream's RedirectChecker(followNonLocalRedirects=false): another host ends the chain.
        if (next.hostname === req.url.hostname) {
          res.resume();
          // Go refuses the redirect once `via` (the requests made so far) holds ten.
          if (redirects + 1 >= MAX_REDIRECTS)
            return {
              result: 'failure',
              output: `Get ${JSON.stringify(next.href)}: stopped after 10 redirects`,
            };
          // Go keeps a Host override only through a relative redirect.
          if (headers['Host'] && /^[a-z][a-z0-9+.-]*:/i.test(location)) {
            headers = { ...headers };
            delete headers['Host'];
          }
          url = next;
          continue;
        }
      }
      return verdict(res.statusCode ?? 0, await readBody(res, url, deadline.signal));
    }
  } catch (e) {
    if (e instanceof BodyReadError) throw e;
    return { result: 'failure', output: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

function verdict(status: number, body: string): HandlerOutcome {
  if (status >= 200 && status < 400) {
    if (status >= 300)
      return { result: 'warning', output: `Probe terminated redirects, Response body: ${body}` };
    return { result: 'success', output: body };
  }
  // Upstream keeps the body out of this message on purpose (kubernetes#99425).
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${status}` };
}

/** One GET; rejects with Go's `Get "<url>": <reason>` text. */
function get(url: URL, headers: Record<string, string[]>, signal: AbortSignal): Promise<IncomingMessage> {
  const addr = joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || defaultPort(url)));
  const sent: Record<string, string | string[]> = { ...headers };
  if (headers['Host']?.[0] === '') delete sent['Host'];
  else if (headers['Host']) sent['Host'] = headers['Host'][0]!;
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: sent, agent: false, rejectUnauthorized: false, signal });
    req.once('response', resolve);
    req.once('error', (err: NodeJS.ErrnoException) => {
      let reason: string;
      if (signal.aborted)
        reason = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
      else if (err.message === 'socket hang up') reason = 'EOF';
      else if (err.syscall === 'connect' || err.syscall === 'getaddrinfo' || err.code === 'ECONNRESET')
        reason = dialErrorText(addr, err);
      else reason = err.message;
      reject(new Error(`Get ${JSON.stringify(url.href)}: ${reason}`));
    });
    req.end();
  });
}

function defaultPort(url: URL): number {
  return url.protocol === 'https:' ? 443 : 80;
}

/** Reading the body failed: upstream returns that as an error, not as a failed probe. */
class BodyReadError extends Error {
  override name = 'BodyReadError';
}

/** The body up to 10 KiB; a longer one is cut there and the connection closed, not an error. */
function readBody(res: IncomingMessage, url: URL, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT).toString());
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size >= MAX_PROBE_OUTPUT) {
        res.destroy();
        done();
      }
    });
    let ended = false;
    res.once('end', () => {
      ended = true;
      done();
    });
    const broken = (err?: Error) => {
      if (ended || size >= MAX_PROBE_OUTPUT) return;
      const reason = signal.aborted
        ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
        : (err?.message ?? 'unexpected EOF');
      reject(new BodyReadError(`reading the response of ${url.href}: ${reason}`));
    };
    res.once('error', broken);
    res.once('close', () => broken());
  });
}
