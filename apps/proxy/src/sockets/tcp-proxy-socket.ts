import { connect, createServer, type Server, type Socket } from 'node:net';

import { type Endpoint } from '../service-ports.js';
import {
  bound,
  DIAL_TIMEOUTS_MS,
  type EndpointPicker,
  type ProxySocket,
  type ProxySocketEvents,
} from './proxy-socket.js';

export interface TcpProxySocketOptions {
  host: string;
  /** 0: any free port (a portal's proxy port). */
  port: number;
  pick: EndpointPicker;
  dialTimeoutsMs?: readonly number[];
  events?: ProxySocketEvents;
}

/**
 * The TCP half of upstream's proxysocket.go: accept, dial an endpoint (the next one after a
 * failed dial, with growing timeouts), then copy both ways with backpressure (no per-chunk
 * work in JavaScript beyond a write per chunk read). No endpoint, or none answering: the client
 * gets a reset, as upstream's REJECT rule gives, rather than a connection that hangs.
 */
export class TcpProxySocket implements ProxySocket {
  readonly protocol = 'TCP';
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private pick: EndpointPicker;
  private listeningPort = 0;

  private constructor(private readonly o: TcpProxySocketOptions) {
    this.pick = o.pick;
    // Half-open both ways: a client that shuts down its sending side still gets the whole reply.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => void this.accept(client));
  }

  static async listen(o: TcpProxySocketOptions): Promise<TcpProxySocket> {
    const s = new TcpProxySocket(o);
    await bound(s.server, (listening) =>
      s.server.listen({ host: o.host, port: o.port, exclusive: true }, listening),
    );
    s.server.on('error', (e) => o.events?.onTrouble?.(`tcp ${o.host}:${s.port}`, e));
    s.listeningPort = (s.server.address() as { port: number }).port;
    return s;
  }

  get port(): number {
    return this.listeningPort;
  }

  setPicker(pick: EndpointPicker): void {
    this.pick = pick;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.open) s.destroy();
    await closed;
  }

  private async accept(client: Socket): Promise<void> {
    this.track(client);
    const clientIP = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    // A client going away while we dial must not become an unhandled error.
    client.on('error', () => client.destroy());
    const timeouts = this.o.dialTimeoutsMs ?? DIAL_TIMEOUTS_MS;
    for (let attempt = 0; attempt < timeouts.length; attempt++) {
      if (client.destroyed) return;
      const endpoint = this.pick(clientIP, attempt > 0);
      if (!endpoint) {
        this.o.events?.connection?.('TCP', 'no-endpoints');
        client.resetAndDestroy();
        return;
      }
      const backend = await dial(endpoint, timeouts[attempt]!).catch((e: Error) => {
        this.o.events?.onTrouble?.(`dial ${endpoint.ip}:${endpoint.port}`, e);
        return undefined;
      });
      if (!backend) continue;
      if (client.destroyed) {
        backend.destroy();
        return;
      }
      this.o.events?.connection?.('TCP', 'ok');
      this.splice(client, backend);
      return;
    }
    this.o.events?.connection?.('TCP', 'dial-failed');
    client.resetAndDestroy();
  }

  private splice(client: Socket, backend: Socket): void {
    this.track(backend);
    this.o.events?.active?.('TCP', 1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.o.events?.active?.('TCP', -1);
      client.destroy();
      backend.destroy();
    };
    backend.on('error', end);
    client.on('error', end);
    // Each side fully closed (both directions done, or reset) ends the pair.
    client.once('close', end);
    backend.once('close', end);
    forward(client, backend);
    forward(backend, client);
  }

  private track(s: Socket): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
  }
}

/**
 * Copies `from` into `to` with backpressure: what pipe() does, minus its bookkeeping (this is
 * the hot path of every byte). An end is passed on as a half-close.
 */
function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

function dial(e: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: e.ip, port: e.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
