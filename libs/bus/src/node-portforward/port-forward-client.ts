import { type NatsConnection } from '@nats-io/transport-node';

import { StreamProtocolError } from '../node-streams/flow.js';
import { openStreamLink } from '../node-streams/stream-link.js';
import {
  PORT_FORWARD_DATA_KINDS,
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
  const link = await openStreamLink(nc, node, portForwardSubject(node), params, {
    ...o,
    kinds: PORT_FORWARD_DATA_KINDS,
    what: 'port forward',
  });
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
