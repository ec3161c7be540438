import { type EventEmitter } from 'node:events';

import { type Endpoint } from '../service-ports.js';

/** Picks the endpoint for a client (the balancer, bound to one service port's key). */
export type EndpointPicker = (clientIP: string, resetAffinity: boolean) => Endpoint | undefined;

/** What a proxy socket tells the metrics. */
export interface ProxySocketEvents {
  /** A connection (TCP) or client flow (UDP) got a backend, or found none. */
  connection?(protocol: 'TCP' | 'UDP', result: 'ok' | 'no-endpoints' | 'dial-failed'): void;
  /** Open TCP connections / UDP flows changed by `delta`. */
  active?(protocol: 'TCP' | 'UDP', delta: number): void;
  onTrouble?(what: string, e: Error): void;
}

/** A listener standing for one service port: a portal's proxy port, a node port or a load-balancer address. */
export interface ProxySocket {
  readonly protocol: 'TCP' | 'UDP';
  /** The port it listens on (the proxy port when it was asked for any). */
  readonly port: number;
  /** Points it at another picker (the service port's affinity or policy changed). */
  setPicker(pick: EndpointPicker): void;
  close(): Promise<void>;
}

/** Upstream's EndpointDialTimeouts (proxysocket.go): one dial per entry, each on the next endpoint. */
export const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];

/**
 * Resolves once `bind` reports the socket listening (its callback), or rejects with the error
 * that kept it from binding (EADDRINUSE and the like); later errors are the caller's to handle.
 */
export function bound(socket: EventEmitter, bind: (listening: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    bind(() => {
      socket.off('error', reject);
      resolve();
    });
  });
}
