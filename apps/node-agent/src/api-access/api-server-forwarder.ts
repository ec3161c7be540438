import { connect, createServer, type Server, type Socket } from 'node:net';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type Docker from 'dockerode';

import { DOCKER_CLIENT } from '../runtime/index.js';
import { dockerBridgeGateway } from './bridge-gateway.js';

export const API_FORWARDER_CONFIG = Symbol('API_FORWARDER_CONFIG');

/** Where pods reach the API server: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT. */
export interface ApiEndpoint {
  host: string;
  port: number;
}

export interface ApiServerForwarderOptions {
  /** The API server's URL, as the agent's kubeconfig names it (`https://127.0.0.1:6443`). */
  server: string;
  /** Address to listen on; default the Docker bridge's gateway, read from the engine. */
  listenHost?: string;
  /** Port to listen on; default 0, any free port. */
  port?: number;
  /** How long stop() lets open connections (watches) finish after half-closing them. Default 2 s. */
  closeGraceMs?: number;
}

/**
 * A TCP forwarder to the API server, listening where pods can reach it. Containers on the
 * Docker bridge cannot reach an API server on the host's loopback; this listens on the
 * bridge's gateway (the host's address on the bridge) and pipes each connection, TLS and all,
 * to the API server — what kube-proxy's userspace mode did for the `kubernetes` Service's
 * ClusterIP, until Wake's service proxy takes that over. Bytes pass through untouched, so
 * clients still verify the API server's certificate (for the gateway address itself when the
 * API server's `servingIps` include it; otherwise with server name `kubernetes.default.svc`).
 */
@Injectable()
export class ApiServerForwarder implements OnApplicationShutdown {
  private server?: Server;
  private address?: ApiEndpoint;
  /** Every open socket, both ends of each forwarded connection. */
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private readonly target: { host: string; port: number };

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(API_FORWARDER_CONFIG) private readonly options: ApiServerForwarderOptions,
  ) {
    this.target = targetOf(options.server);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts listening; returns the address pods are given. */
  async start(): Promise<ApiEndpoint> {
    if (this.address) return this.address;
    const host = this.options.listenHost ?? (await dockerBridgeGateway(this.docker));
    const server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: this.options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.address = { host, port: (server.address() as { port: number }).port };
    return this.address;
  }

  /** The listening address (for the container configurer's `kubernetesEndpoint`); start() first. */
  get endpoint(): ApiEndpoint {
    if (!this.address) throw new Error('the API server forwarder is not started');
    return this.address;
  }

  /** Connections being forwarded now. */
  get openConnections(): number {
    return this.clients.size;
  }

  /**
   * Stops accepting, half-closes every open connection so both ends see an orderly end
   * (clients re-watch), and cuts what is still open after the grace period.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.address = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.end();
    const grace = new Promise<void>((resolve) =>
      setTimeout(resolve, this.options.closeGraceMs ?? 2_000).unref(),
    );
    await Promise.race([closed, grace]);
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private forward(client: Socket): void {
    const upstream = connect({ host: this.target.host, port: this.target.port });
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.once('close', () => this.sockets.delete(socket));
    }
    // Either side failing ends the pair: the client sees its connection drop, as with a dead server.
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** host and port of an `https://host:port` URL (IPv6 brackets removed; 443 when no port is given). */
export function targetOf(server: string): { host: string; port: number } {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
}
