import { type Socket } from 'node:net';

import { type NatsConnection } from '@nats-io/transport-node';

import { StreamProtocolError } from '../node-streams/flow.js';
import { serveOpen } from '../node-streams/stream-open.js';
import { drained } from '../node-streams/drained.js';
import { answerStreamLink, type LinkAccepted, type StreamLink } from '../node-streams/stream-link.js';
import {
  PORT_FORWARD_DATA_KINDS,
  type PortForwardDataKind,
  type PortForwardRequest,
  portForwardSubject,
} from './port-forward-protocol.js';

/**
 * What connects to pods' ports on one node: `connect` finds the pod — throwing StreamRefused
 * for an unknown one — and resolves with a connected socket, or throws StreamRefused with the
 * reason the connection failed.
 */
export interface PortForwardTarget {
  connect(request: PortForwardRequest): Promise<Socket>;
}

/** Answers port-forward requests for `node` with `target` until `close()`. */
export function servePortForward(
  nc: NatsConnection,
  node: string,
  target: PortForwardTarget,
): { close(): void } {
  return serveOpen<PortForwardRequest, Socket, LinkAccepted>(
    nc,
    portForwardSubject(node),
    (request) => target.connect(request),
    async (request, socket, respond) => {
      const { link, inbox } = answerStreamLink(nc, request, {
        kinds: PORT_FORWARD_DATA_KINDS,
        what: 'port forward',
      });
      respond({ ok: true, inbox });
      await relay(link, socket);
    },
  );
}

/** Copies between the pod's socket and the link until either side is done with it. */
async function relay(link: StreamLink<PortForwardDataKind>, socket: Socket): Promise<void> {
  // The link ended (the API server cancelled, or it vanished): drop the pod's connection.
  void link.closed.then(() => socket.destroy());
  link.receive(async (kind, data) => {
    if (kind === 'data') {
      if (socket.destroyed || socket.writableEnded) return;
      // Held until the pod's side drained: the API server's credit waits, then the client.
      if (!socket.write(data)) await drained(socket);
    } else if (kind === 'eof') socket.end();
    else throw new StreamProtocolError(`unexpected "${kind}" from the API server`);
  });
  let outcome: { kind: 'eof' } | { kind: 'error'; message: string } = { kind: 'eof' };
  try {
    // Reading stops while a send waits for credit: the pod is held back, not buffered here.
    for await (const chunk of socket as AsyncIterable<Buffer>) await link.send('data', chunk);
  } catch (e) {
    outcome = { kind: 'error', message: (e as Error).message };
  }
  try {
    await link.send(outcome.kind, outcome.kind === 'error' ? outcome.message : undefined);
  } catch {
    // The link ended first (the client went away): nobody is left to tell.
  }
  link.end();
  socket.destroy();
}
