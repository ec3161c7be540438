import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

import { type Endpoint } from '../service-ports.js';
import { bound, type EndpointPicker, type ProxySocket, type ProxySocketEvents } from './proxy-socket.js';

export interface UdpProxySocketOptions {
  host: string;
  port: number;
  pick: EndpointPicker;
  /** How long a client's flow lives without traffic (upstream --udp-timeout, default 250 ms). */
  idleTimeoutMs?: number;
  events?: ProxySocketEvents;
}

interface Flow {
  socket: Socket;
  endpoint: Endpoint;
  timer: NodeJS.Timeout;
}

/**
 * The UDP half of upstream's proxysocket.go: one socket per client address, connected to the
 * endpoint the balancer chose, carrying the client's datagrams there and the replies back
 * from the service's own socket (so conntrack un-DNATs them to the ClusterIP); a flow idle
 * for the timeout is closed.
 */
export class UdpProxySocket implements ProxySocket {
  readonly protocol = 'UDP';
  private readonly flows = new Map<string, Flow>();
  private pick: EndpointPicker;
  private listeningPort = 0;

  private constructor(
    private readonly server: Socket,
    private readonly o: UdpProxySocketOptions,
  ) {
    this.pick = o.pick;
  }

  static async listen(o: UdpProxySocketOptions): Promise<UdpProxySocket> {
    const server = createSocket({ type: 'udp4' });
    const s = new UdpProxySocket(server, o);
    await bound(server, (listening) =>
      server.bind({ address: o.host, port: o.port, exclusive: true }, listening),
    );
    server.on('error', (e) => o.events?.onTrouble?.(`udp ${o.host}:${s.port}`, e));
    server.on('message', (msg, from) => s.forward(msg, from));
    s.listeningPort = server.address().port;
    return s;
  }

  get port(): number {
    return this.listeningPort;
  }

  setPicker(pick: EndpointPicker): void {
    this.pick = pick;
  }

  async close(): Promise<void> {
    for (const key of [...this.flows.keys()]) this.endFlow(key);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(msg: Buffer, from: RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const endpoint = this.pick(from.address, false);
      if (!endpoint) {
        this.o.events?.connection?.('UDP', 'no-endpoints');
        return; // dropped, as upstream drops datagrams for a service with no endpoints
      }
      flow = this.openFlow(key, from, endpoint);
    }
    flow.timer.refresh();
    flow.socket.send(msg, flow.endpoint.port, flow.endpoint.ip, (e) => {
      if (e) this.o.events?.onTrouble?.(`udp to ${flow.endpoint.ip}:${flow.endpoint.port}`, e);
    });
  }

  private openFlow(key: string, client: RemoteInfo, endpoint: Endpoint): Flow {
    const socket = createSocket({ type: 'udp4' });
    const timer = setTimeout(() => this.endFlow(key), this.o.idleTimeoutMs ?? 250);
    const flow: Flow = { socket, endpoint, timer };
    socket.on('message', (reply) => {
      timer.refresh();
      this.server.send(reply, client.port, client.address);
    });
    // ICMP port unreachable and the like: the flow ends; the client's next datagram opens another.
    socket.on('error', (e) => {
      this.o.events?.onTrouble?.(`udp flow ${key} → ${endpoint.ip}:${endpoint.port}`, e);
      this.endFlow(key);
    });
    this.flows.set(key, flow);
    this.o.events?.connection?.('UDP', 'ok');
    this.o.events?.active?.('UDP', 1);
    return flow;
  }

  private endFlow(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.timer);
    this.o.events?.active?.('UDP', -1);
    flow.socket.close();
  }
}
