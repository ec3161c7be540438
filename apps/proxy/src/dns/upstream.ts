import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, isIPv6 } from 'node:net';

import { parseResolvConf } from '../../../node-agent/src/config/pod-dns.js';
import { frameForTcp, splitTcpFrames } from './codec.js';

export interface UpstreamServer {
  host: string;
  port: number;
}

/** How a query reached us; it is forwarded the same way (a TCP client wants the full answer). */
export type Transport = 'udp' | 'tcp';

/** Sends a raw query to a resolver and returns its raw answer (a seam: tests use fakes). */
export interface Forwarder {
  forward(query: Buffer, transport: Transport): Promise<Buffer>;
}

/**
 * The host's nameservers (what CoreDNS' default `forward . /etc/resolv.conf` uses) on port 53,
 * read with the node agent's resolv.conf parser, the one pods' files are made from.
 */
export async function hostNameservers(path = '/etc/resolv.conf'): Promise<UpstreamServer[]> {
  const { servers } = parseResolvConf(await readFile(path, 'utf8'));
  return servers.map((s) => ({ host: s.split('%')[0], port: 53 }));
}

export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/**
 * Forwards to the upstream resolvers in order, each within the timeout, the first answer
 * winning (CoreDNS' forward plugin, `policy sequential`). Each query has its own socket, so a
 * reply can only be the answer to it; the id is checked anyway.
 */
export class UpstreamForwarder implements Forwarder {
  constructor(
    private readonly servers: readonly UpstreamServer[],
    private readonly timeoutMs = 2000,
  ) {}

  async forward(query: Buffer, transport: Transport): Promise<Buffer> {
    if (this.servers.length === 0) throw new UpstreamError('no upstream resolvers configured');
    const failures: string[] = [];
    for (const server of this.servers) {
      try {
        return transport === 'udp' ? await this.overUdp(server, query) : await this.overTcp(server, query);
      } catch (e) {
        failures.push(`${server.host}:${server.port}: ${(e as Error).message}`);
      }
    }
    throw new UpstreamError(`every upstream failed over ${transport}: ${failures.join('; ')}`);
  }

  private overUdp(server: UpstreamServer, query: Buffer): Promise<Buffer> {
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    return new Promise<Buffer>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new UpstreamError(`no answer in ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      socket.on('error', reject);
      socket.on('message', (msg) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) resolve(msg);
      });
      socket.send(query, server.port, server.host, (e) => e && reject(e));
    }).finally(() => {
      clearTimeout(timer);
      // Only this closes it: an error event leaves a dgram socket open.
      socket.close();
    });
  }

  private overTcp(server: UpstreamServer, query: Buffer): Promise<Buffer> {
    const socket = connect({ host: server.host, port: server.port });
    let buffered: Buffer = Buffer.alloc(0);
    return new Promise<Buffer>((resolve, reject) => {
      socket.setTimeout(this.timeoutMs, () => reject(new UpstreamError(`no answer in ${this.timeoutMs} ms`)));
      socket.on('error', reject);
      socket.on('close', () => reject(new UpstreamError('closed before answering')));
      socket.on('connect', () => socket.write(frameForTcp(query)));
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const { messages, rest } = splitTcpFrames(buffered);
        buffered = rest;
        if (messages.length) resolve(messages[0]);
      });
    }).finally(() => socket.destroy());
  }
}
