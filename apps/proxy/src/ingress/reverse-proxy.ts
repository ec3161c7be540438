import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { type Socket } from 'node:net';
import { type SecureContext } from 'node:tls';
import { type Duplex } from 'node:stream';

import { type Upstream } from './backend-endpoints.js';

/** What to do with a request: forward it to these upstreams (tried in order), or answer it here. */
export type Decision = { upstreams: Upstream[] } | { status: number; message: string };

export interface ReverseProxyOptions {
  /**
   * Serve HTTPS, the certificate picked per SNI server name (undefined: the handshake fails, as
   * there is no certificate for that name); the upstreams are told X-Forwarded-Proto https.
   */
  tls?: { contextFor(serverName: string): SecureContext | undefined };
  /** Routes a request: the upstreams to try, first one first, or the answer (404, 503...). */
  decide(req: IncomingMessage): Decision;
  /** How long a connection to an upstream may take before the next one is tried (ingress-nginx: 5 s). */
  connectTimeoutMs?: number;
  /** Upstreams tried per request (ingress-nginx's proxy-next-upstream-tries: 3). */
  maxAttempts?: number;
  /** Told each request's outcome: the status sent, and `failedConnects` upstreams that did not answer. */
  onOutcome?: (status: number, failedConnects: number) => void;
  onTrouble?: (e: Error) => void;
}

/**
 * RFC 9110 §7.6.1 hop-by-hop fields: they describe one connection and are not forwarded (the
 * fields a Connection header names are dropped too). node:http sets its own framing.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

const clientAddress = (s: Socket) => (s.remoteAddress ?? '').replace(/^::ffff:/, '');

/**
 * The headers an upstream gets (ingress-nginx's proxy_set_header set): the client's end-to-end
 * headers with Host unchanged, X-Forwarded-For appended with the client's address,
 * X-Real-IP, X-Forwarded-Host/-Port/-Proto saying what the client asked for.
 */
export function upstreamHeaders(req: IncomingMessage, proto: 'http' | 'https'): OutgoingHttpHeaders {
  const client = clientAddress(req.socket);
  const prior = req.headers['x-forwarded-for'];
  return {
    ...endToEndHeaders(req.headers),
    'x-forwarded-for': prior ? `${String(prior)}, ${client}` : client,
    'x-real-ip': client,
    'x-forwarded-host': req.headers.host ?? '',
    'x-forwarded-port': String(req.socket.localPort ?? ''),
    'x-forwarded-proto': proto,
  };
}

/** A request whose whole content is its header: safe to send again after a connection broke. */
function resendable(req: IncomingMessage): boolean {
  const idempotent = ['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'TRACE'].includes(req.method ?? '');
  const len = req.headers['content-length'];
  return idempotent && (len === undefined || len === '0') && req.headers['transfer-encoding'] === undefined;
}

/**
 * The ingress controller's HTTP/1.1 reverse proxy (node:http): each request goes where `decide`
 * says, over keep-alive connections, bodies streamed both ways. An upstream that refuses or does
 * not accept the connection in time is skipped for the next (ingress-nginx's
 * proxy_next_upstream error timeout); the request body is only read once a connection stands,
 * so a retried request loses nothing. After the last try the answer is 502. Upgrades
 * (WebSocket) are passed through as a byte stream both ways.
 */
export class ReverseProxy {
  readonly server: Server;
  private readonly proto: 'http' | 'https';
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
  /** Upgraded connections: node:http no longer tracks them, and a server closes only once they end. */
  private readonly tunnels = new Set<Socket>();

  constructor(private readonly o: ReverseProxyOptions) {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const tls = o.tls;
    this.proto = tls ? 'https' : 'http';
    this.server = tls
      ? createTlsServer(
          {
            keepAliveTimeout: 60_000,
            SNICallback: (name, cb) => {
              const ctx = tls.contextFor(name.toLowerCase());
              if (ctx) cb(null, ctx);
              else cb(new Error(`no certificate for ${name}`));
            },
          },
          handler,
        )
      : createServer({ keepAliveTimeout: 60_000 }, handler);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket as Socket, head),
    );
    this.server.on('clientError', (e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
      this.o.onTrouble?.(new Error(`client connection: ${e.message}`, { cause: e }));
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        if (a === null || typeof a === 'string')
          return reject(new Error(`ingress listener on ${host}:${port}: no address`));
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const t of this.tunnels) t.destroy();
    this.agent.destroy();
    await closed;
  }

  /** Where a request goes, its upstreams cut to the tries allowed; a routing failure is a 500. */
  private decide(req: IncomingMessage): Decision {
    try {
      const d = this.o.decide(req);
      return 'status' in d ? d : { upstreams: d.upstreams.slice(0, this.o.maxAttempts ?? 3) };
    } catch (e) {
      this.o.onTrouble?.(
        new Error(`routing ${req.headers.host ?? ''}${req.url ?? ''}: ${(e as Error).message}`, { cause: e }),
      );
      return { status: 500, message: 'ingress routing failed' };
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const decision = this.decide(req);
    if ('status' in decision) return this.answer(res, decision.status, decision.message, 0);
    this.forward(req, res, decision.upstreams, 0);
  }

  private answer(res: ServerResponse, status: number, message: string, failed: number): void {
    this.o.onOutcome?.(status, failed);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
  }

  private forward(req: IncomingMessage, res: ServerResponse, upstreams: Upstream[], attempt: number): void {
    const up = upstreams[attempt];
    let sent = false;
    let answered = false;
    const preq = this.dial(up, req, upstreamHeaders(req, this.proto), this.agent, () => {
      sent = true;
      // A request retried after its (empty) body was read has nothing left to stream.
      if (req.readableEnded) preq.end();
      else req.pipe(preq);
    });
    preq.on('response', (pres) => {
      answered = true;
      this.o.onOutcome?.(pres.statusCode ?? 502, attempt);
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, endToEndHeaders(pres.headers));
      pres.pipe(res);
      pres.on('error', () => res.destroy());
    });
    preq.on('error', (e) => {
      if (answered) return res.destroy();
      // The client left first (nginx logs it as 499): nobody to answer.
      if (res.destroyed) return this.o.onOutcome?.(499, attempt);
      if ((!sent || resendable(req)) && attempt + 1 < upstreams.length) {
        if (sent) req.unpipe(preq);
        return this.forward(req, res, upstreams, attempt + 1);
      }
      this.o.onTrouble?.(new Error(`${req.method} ${req.url} to ${up.host}:${up.port}: ${e.message}`));
      this.answer(res, 502, 'bad gateway: no endpoint answered', attempt + 1);
    });
    // The client went away: so does the upstream request.
    res.on('close', () => {
      if (!res.writableFinished) preq.destroy();
    });
  }

  /**
   * `req` sent on to `up` with `headers`: a connection that does not stand within the connect
   * timeout fails the request (its 'error' then tries the next upstream); `connected` runs once
   * it stands, at once for a pooled keep-alive socket.
   */
  private dial(
    up: Upstream,
    req: IncomingMessage,
    headers: OutgoingHttpHeaders,
    agent: Agent | false,
    connected?: () => void,
  ): ClientRequest {
    const preq = request({ host: up.host, port: up.port, method: req.method, path: req.url, headers, agent });
    const timer = setTimeout(
      () => preq.destroy(new Error(`connect to ${up.host}:${up.port} timed out`)),
      this.o.connectTimeoutMs ?? 5000,
    );
    const stands = () => {
      clearTimeout(timer);
      connected?.();
    };
    preq.on('socket', (s: Socket) => {
      if (s.connecting) s.once('connect', stands);
      else stands();
    });
    preq.on('error', () => clearTimeout(timer));
    return preq;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const d = this.decide(req);
    if ('status' in d) {
      this.o.onOutcome?.(d.status, 0);
      const body = `${d.message}\n`;
      socket.end(
        `HTTP/1.1 ${d.status} ${STATUS_CODES[d.status] ?? ''}\r\nconnection: close\r\n` +
          `content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    this.tunnel(req, socket, head, d.upstreams, 0);
  }

  /** An upgrade request sent on to `upstreams[attempt]`; on a 101 the two connections are joined. */
  private tunnel(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    upstreams: Upstream[],
    attempt: number,
  ): void {
    const up = upstreams[attempt];
    const headers = {
      ...upstreamHeaders(req, this.proto),
      connection: 'Upgrade',
      upgrade: req.headers.upgrade ?? '',
    };
    // No agent: an upgraded connection is never pooled.
    const preq = this.dial(up, req, headers, false);
    preq.on('upgrade', (pres, psocket: Socket, phead: Buffer) => {
      this.o.onOutcome?.(101, attempt);
      const lines = [`HTTP/1.1 101 ${pres.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < pres.rawHeaders.length; i += 2)
        lines.push(`${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (phead.length) socket.write(phead);
      if (head.length) psocket.write(head);
      psocket.on('error', () => socket.destroy());
      socket.on('close', () => psocket.destroy());
      for (const t of [socket, psocket]) {
        this.tunnels.add(t);
        t.once('close', () => this.tunnels.delete(t));
      }
      psocket.pipe(socket).pipe(psocket);
    });
    preq.on('response', (pres) => {
      // The upstream declined the upgrade: its answer goes back, and the connection ends.
      this.o.onOutcome?.(pres.statusCode ?? 502, attempt);
      // node:http has decoded its framing, so the body is sent unframed and ended by the close.
      const lines = [`HTTP/1.1 ${pres.statusCode} ${pres.statusMessage ?? ''}`, 'connection: close'];
      for (const [k, v] of Object.entries(endToEndHeaders(pres.headers)))
        if (k !== 'content-length') for (const one of [v].flat()) lines.push(`${k}: ${String(one)}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      pres.pipe(socket);
    });
    preq.on('error', (e) => {
      if (socket.destroyed) return;
      if (attempt + 1 < upstreams.length) return this.tunnel(req, socket, head, upstreams, attempt + 1);
      this.o.onTrouble?.(new Error(`upgrade ${req.url} to ${up.host}:${up.port}: ${e.message}`));
      this.o.onOutcome?.(502, attempt + 1);
      socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    preq.end();
  }
}
