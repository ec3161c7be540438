import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import { type Duplex } from 'node:stream';

export interface PendingUpgrade {
  socket: Duplex;
  /** Bytes the client sent after the request head (the first frames, if it did not wait). */
  head: Buffer;
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/**
 * Node hands requests with an `Upgrade` header to the server's 'upgrade' listeners, with the
 * raw socket and no response. This passes them to the ordinary request handler (Fastify's) with
 * a response on that socket, so authentication, routing and Status errors work as for any
 * request; a handler that wants the upgrade takes the socket with `takeUpgrade`, one that does
 * not simply answers, and the connection closes after its answer.
 */
export function routeUpgradesAsRequests(server: Server): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    pending.set(req, { socket, head });
    const res = new ServerResponse(req);
    // The HTTP parser let go of this connection: no second request can follow on it.
    res.shouldKeepAlive = false;
    res.assignSocket(socket as never);
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    server.emit('request', req, res);
  });
}

/** The socket of an upgrade request, for the handler that will speak the new protocol on it. */
export function takeUpgrade(req: IncomingMessage): PendingUpgrade | undefined {
  const upgrade = pending.get(req);
  pending.delete(req);
  return upgrade;
}
