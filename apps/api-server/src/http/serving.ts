import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type SecureServerOptions,
} from 'node:http2';
import { type IncomingMessage, type Server as HttpServer, ServerResponse } from 'node:http';
import { DEFAULT_CIPHERS } from 'node:tls';

import { type Drainable } from '@app/bus';

/** What a request handler is given: HTTP/1.1's objects, or HTTP/2's compatibility ones. */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (req: AnyRequest, res: AnyResponse) => void;

/** What code that streams a body needs of a response, whichever protocol carries it. */
export interface StreamedBody extends Drainable {
  /** `done` is called at most once and never while the stream still needs `chunk`; a stream that dies may never call it. */
  write(chunk: string | Buffer, done?: (error?: Error | null) => void): boolean;
  end(): void;
}

export interface ServingOptions {
  tls: Pick<SecureServerOptions, 'key' | 'cert'>;
  /** Accept TLS 1.2 clients offering only SHA-1 signatures (see servingCiphers). */
  allowSha1TlsSignatures?: boolean;
  /** HTTP/1.1's slow-client limits: the whole head, the whole request, and how often Node looks. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An HTTP/1.1 connection or an HTTP/2 session with nothing in flight is closed after this long. */
  idleTimeoutMs: number;
}

/**
 * The TLS 1.3 suites in the order Go's server picks them where the CPU has AES instructions, so
 * kube-apiserver's choice: AES-128-GCM first. Node's server would otherwise take the client's
 * order, and Node's clients (and OpenSSL's) put AES-256-GCM first, which costs both ends about a
 * fifth more per byte (`openssl speed` on these machines: 6.2 against 5.1 GB/s), every byte of
 * every watch stream included.
 */
const TLS13_PREFERENCE = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'];

/**
 * The server's cipher list: Node's defaults, the TLS 1.3 suites reordered as above. `allowSha1`
 * lowers only the security level, so clients offering nothing but SHA-1 signatures connect.
 */
export function servingCiphers(allowSha1 = false): string {
  const rest = DEFAULT_CIPHERS.split(':').filter((c) => !TLS13_PREFERENCE.includes(c));
  return [...TLS13_PREFERENCE, ...rest, ...(allowSha1 ? ['@SECLEVEL=0'] : [])].join(':');
}

/** How long a closing server waits for a session's open streams before it cuts the session. */
const SHUTDOWN_GRACE_MS = 5_000;

type Http1Limits = Pick<HttpServer, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout'> & {
  connectionsCheckingInterval: number;
  requireHostHeader: boolean;
};

/**
 * kube-apiserver's `--http2-max-streams-per-connection` default: a client multiplexes this many
 * requests and watches (an informer factory's watches all ride one connection) on one session.
 */
export const MAX_STREAMS_PER_CONNECTION = 1000;

/**
 * The API server's listener, as kube-apiserver's: TLS offering HTTP/2 by ALPN, with HTTP/1.1 for
 * clients that ask for it (kubectl's exec, attach and port-forward upgrades, clients without h2).
 * client-go and kubectl speak HTTP/2 whenever the server offers it: one connection carries every
 * request, and each costs less CPU on both ends than an HTTP/1.1 round trip.
 */
export function createApiHttpServer(options: ServingOptions, handler: RequestHandler): Http2SecureServer {
  const server = createSecureServer(
    {
      ...options.tls,
      ciphers: servingCiphers(options.allowSha1TlsSignatures),
      // The server's order, not the client's, picks the suite (as Go's server does).
      honorCipherOrder: true,
      allowHTTP1: true,
      // Node's HTTP/2 server sets TCP_NODELAY on the sessions it accepts by ALPN, but not on the
      // HTTP/1.1 connections it hands over under allowHTTP1 (https.Server would have). Without
      // it, a watch's small writes over HTTP/1.1 wait on Nagle's algorithm for the client's
      // delayed ACK, up to 40 ms each. Go, and so kube-apiserver, sets it on every socket.
      noDelay: true,
      settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION },
    },
    (req: AnyRequest, res: AnyResponse) => {
      if (isHttp2(req)) boundBody(req, options.requestTimeoutMs);
      handler(req, res);
    },
  );
  // Node reads HTTP/1.1's limits from the server object, not the options, under allowHTTP1
  // (its types do not list them there).
  const http1Limits: Http1Limits = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: Math.max(options.headersTimeoutMs, options.requestTimeoutMs),
    // How often Node looks for requests past those limits.
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(options.headersTimeoutMs / 4))),
    keepAliveTimeout: options.idleTimeoutMs,
    // https.Server's default, which the HTTP/2 server does not set for its HTTP/1.1 side.
    requireHostHeader: true,
  };
  const sessions = trackSessions(server, options.idleTimeoutMs);
  Object.assign(server, http1Limits, {
    // Fastify calls this on close: each session finishes the streams it has (watches end as the
    // server stops) and takes no new ones, and one whose client holds a stream open past the
    // grace is cut; HTTP/1.1's idle connections Fastify closes itself.
    closeHttp2Sessions: () => sessions.closeAll(),
  });
  return server;
}

/**
 * The open HTTP/2 sessions, each closed once it has had no stream for `idleMs`. Node's own
 * session timeout counts any quiet as idle, which would cut a watch that waits long for its next
 * event; this counts streams instead, as Go's server does. `closeAll` lets each finish what it
 * has, cuts it after a grace, and does the same to sessions whose handshake ends afterwards.
 */
function trackSessions(server: Http2SecureServer, idleMs: number): { closeAll(): void } {
  const sessions = new Set<Http2Session>();
  let closing = false;
  const wind = (session: Http2Session) => {
    session.close();
    setTimeout(() => session.destroy(), SHUTDOWN_GRACE_MS).unref();
  };
  server.on('session', (session: Http2Session) => {
    if (closing) return wind(session);
    sessions.add(session);
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      idle = setTimeout(() => session.close(), idleMs);
      idle.unref();
    };
    armIdle();
    session.on('stream', (stream) => {
      open++;
      clearTimeout(idle);
      stream.once('close', () => {
        if (--open === 0 && !session.closed && !session.destroyed) armIdle();
      });
    });
    session.once('close', () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
    // A session's protocol errors end that session; the server goes on.
    session.on('error', () => session.destroy());
  });
  return {
    closeAll: () => {
      closing = true;
      for (const session of sessions) wind(session);
    },
  };
}

/**
 * What HTTP/1.1 does for a request body by closing its connection, HTTP/2 does on the stream
 * alone. A body that has not all arrived in `ms` is reset (HTTP/1.1's requestTimeout, which
 * Node applies only to HTTP/1.1). A reply sent before the body was all read (a refusal: 401,
 * 413, 415) ends the stream once it is out, and what arrived unread is thrown away (RFC 9113
 * §8.1: RST_STREAM with NO_ERROR); else the stream would wait for a body nobody reads.
 */
function boundBody(req: Http2ServerRequest, ms: number): void {
  if (req.stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (!req.complete) req.stream.close(constants.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  req.stream.once('close', () => clearTimeout(timer));
  // (The response's own 'finish' waits for the stream to close; the stream's is the reply being out.)
  req.stream.once('finish', () => {
    if (req.complete) return;
    req.stream.close(constants.NGHTTP2_NO_ERROR);
    req.resume();
  });
}

/** Whether a request came over HTTP/2 (whose responses have no connection-level headers). */
export function isHttp2(req: AnyRequest): req is Http2ServerRequest {
  return req.httpVersionMajor === 2;
}

/**
 * Starts a streamed response (a watch, `logs -f`) and sends its head at once: clients wait for
 * the head before they report a watch as started. HTTP/1.1 frames the body in chunks; HTTP/2
 * frames it itself and forbids the header.
 */
export function startStreamedResponse(res: AnyResponse, headers: Record<string, string>): void {
  if (res instanceof ServerResponse) {
    res.writeHead(200, { ...headers, 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
  } else {
    // HTTP/2's writeHead sends the HEADERS frame itself.
    res.writeHead(200, headers);
  }
}

/**
 * Ends a streamed response as an error, which no client can take for the body's end: HTTP/1.1
 * drops the connection before the last chunk; HTTP/2 resets the stream with INTERNAL_ERROR
 * (a plain destroy() would reset it with NO_ERROR, which Node's client reads as a clean end).
 */
export function breakOffResponse(res: AnyResponse): void {
  if (res instanceof ServerResponse) res.destroy();
  else res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
}

/** Whether the client went away (or the response was torn down): HTTP/2's response says so on its stream. */
export function responseGone(res: AnyResponse): boolean {
  return res instanceof ServerResponse ? res.destroyed : res.stream.destroyed;
}
