import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';

import { frameForTcp, splitTcpFrames } from './codec.js';
import { type Transport } from './upstream.js';

export interface ListenAddress {
  host: string;
  /** 0: any free port (the same one for UDP and TCP is not promised then; see `addresses`). */
  port: number;
}

export interface BoundAddress {
  host: string;
  udpPort: number;
  tcpPort: number;
}

export type QueryHandler = (query: Buffer, transport: Transport) => Promise<Buffer | undefined>;

export interface DnsSocketsOptions {
  /** A TCP connection without a query for this long is closed (CoreDNS: 10 s read timeout). */
  tcpIdleMs?: number;
  onTrouble?: (what: string, e: Error) => void;
}

/**
 * The server's sockets: UDP and TCP on each listen address, every message handed to one
 * handler. Only transport lives here; what to answer is the handler's.
 */
export class DnsSockets {
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: Server[] = [];
  private readonly connections = new Set<Socket>();
  readonly addresses: BoundAddress[] = [];

  constructor(
    private readonly handler: QueryHandler,
    private readonly o: DnsSocketsOptions = {},
  ) {}

  async listen(addresses: readonly ListenAddress[]): Promise<BoundAddress[]> {
    try {
      for (const a of addresses) {
        // TCP first: with port 0 the kernel's choice is then asked of UDP too, so both match.
        const tcpPort = await this.listenTcp(a);
        const udpPort = await this.listenUdp({ host: a.host, port: a.port === 0 ? tcpPort : a.port }).catch(
          (e: unknown) => {
            if (a.port !== 0) throw e;
            return this.listenUdp(a);
          },
        );
        this.addresses.push({ host: a.host, udpPort, tcpPort });
      }
      return this.addresses;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await Promise.allSettled([
      ...this.udp.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...this.tcp.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }

  private listenUdp(a: ListenAddress): Promise<number> {
    const socket = createSocket({ type: isIPv6(a.host) ? 'udp6' : 'udp4' });
    return new Promise<number>((resolve, reject) => {
      socket.once('error', (e) => {
        socket.close();
        reject(new Error(`DNS: cannot listen on udp ${a.host}:${a.port}: ${e.message}`, { cause: e }));
      });
      socket.bind(a.port, a.host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (e) => this.o.onTrouble?.(`udp ${a.host}:${a.port}`, e));
        socket.on('message', (msg, from) => {
          this.handler(msg, 'udp')
            .then((reply) => {
              if (reply) socket.send(reply, from.port, from.address);
            })
            .catch((e: unknown) => this.o.onTrouble?.(`query from ${from.address}`, e as Error));
        });
        this.udp.push(socket);
        resolve(socket.address().port);
      });
    });
  }

  private listenTcp(a: ListenAddress): Promise<number> {
    const server = createServer((conn) => this.serveConnection(conn));
    return new Promise<number>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new Error(`DNS: cannot listen on tcp ${a.host}:${a.port}: ${e.message}`, { cause: e })),
      );
      server.listen(a.port, a.host, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.o.onTrouble?.(`tcp ${a.host}:${a.port}`, e));
        this.tcp.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : a.port);
      });
    });
  }

  /** RFC 7766: length-prefixed queries, several per connection, answered as they complete. */
  private serveConnection(conn: Socket): void {
    this.connections.add(conn);
    let buffered: Buffer = Buffer.alloc(0);
    conn.setTimeout(this.o.tcpIdleMs ?? 10_000, () => conn.end());
    conn.on('error', (e) => this.o.onTrouble?.(`tcp client ${conn.remoteAddress}`, e));
    conn.on('close', () => this.connections.delete(conn));
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const { messages, rest } = splitTcpFrames(buffered);
      buffered = rest;
      for (const m of messages)
        this.handler(Buffer.from(m), 'tcp')
          .then((reply) => {
            if (reply && !conn.destroyed) conn.write(frameForTcp(reply));
          })
          .catch((e: unknown) => this.o.onTrouble?.(`query from ${conn.remoteAddress}`, e as Error));
    });
  }
}
