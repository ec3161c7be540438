import { createInbox, type NatsConnection } from '@nats-io/transport-node';

import { StreamProtocolError } from '../node-streams/flow.js';
import { requestOpen, StreamOpenError } from '../node-streams/stream-open.js';
import { STREAM_DEFAULT_WINDOW, StreamLink } from '../node-streams/stream-link.js';
import {
  PORT_FORWARD_DATA_KINDS,
  type PortForwardAccepted,
  type PortForwardRequest,
  portForwardSubject,
} from './port-forward-protocol.js';

export type PortForwardParams = Omit<PortForwardRequest, 'inbox' | 'pingMs' | 'window'>;

export interface OpenPortForwardOptions {
  openTimeoutMs?: number;
  pingMs?: number;
  window?: number;
}

/** The API server's end of one forwarded connection. */
export interface PortForwardConnection {
  /**
   * Passes the pod's bytes to `onData` in order (the next only once the previous one's promise
   * settled, which holds a fast pod back) and resolves once the pod closed its end; rejects
   * with why when the connection failed midway or the link broke.
   */
  run(onData: (data: Uint8Array) => Promise<void> | void): Promise<void>;
  /** Resolves once the agent has room for more (its credit). */
  write(data: Uint8Array): Promise<void>;
  /** The client will send no more: the agent half-closes the pod's connection. */
  closeWrite(): Promise<void>;
  /** The client went away, or the pod's end is done: the agent drops the connection. */
  cancel(): void;
}

/** A connection the agent made, then lost (the pod reset it, say): its words. */
export class PortForwardFailed extends Error {
  override name = 'PortForwardFailed';
}

/**
 * Asks the node agent running the pod to connect to its `port`; resolves once it has. Throws
 * StreamOpenError with the agent's code and words when it could not (or 503: no agent).
 */
export async function openPortForward(
  nc: NatsConnection,
  node: string,
  params: PortForwardParams,
  o: OpenPortForwardOptions = {},
): Promise<PortForwardConnection> {
  const inbox = createInbox();
  const pingMs = o.pingMs ?? 5_000;
  const window = o.window ?? STREAM_DEFAULT_WINDOW;
  // Subscribed before asking, so nothing the agent sends right after connecting is missed.
  const link = new StreamLink(nc, inbox, '', {
    pingMs,
    window,
    kinds: PORT_FORWARD_DATA_KINDS,
    what: 'port forward',
  });
  try {
    const reply = await requestOpen<PortForwardAccepted>(
      nc,
      node,
      portForwardSubject(node),
      { ...params, inbox, pingMs, window } satisfies PortForwardRequest,
      o.openTimeoutMs ?? 5_000,
    );
    if (!reply.inbox) throw new StreamOpenError(500, `the node agent of node ${node} named no inbox`);
    link.connect(reply.inbox);
  } catch (e) {
    link.end();
    throw e;
  }
  let failure: Error | undefined;
  let ended = false;
  return {
    run: async (onData) => {
      link.receive(async (kind, data) => {
        if (kind === 'data') return onData(data);
        if (kind === 'error') failure = new PortForwardFailed(new TextDecoder().decode(data));
        else if (kind !== 'eof') throw new StreamProtocolError(`unexpected "${kind}" from the node agent`);
        ended = true;
        link.end();
      });
      const broke = await link.closed;
      if (failure) throw failure;
      if (!ended) throw broke ?? new StreamProtocolError('the port forward ended before the pod closed it');
    },
    write: (data) => link.send('data', data),
    closeWrite: () => link.send('eof'),
    cancel: () => link.cancel(),
  };
}
