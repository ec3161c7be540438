import { connect } from 'node:net';

import { dialErrorText, type HandlerOutcome, joinHostPort } from './outcome.js';

/**
 * A tcpSocket probe (pkg/probe/tcp/tcp.go DoTCPProbe): success when a connection opens within
 * the timeout, which is then closed at once; every error is a failure quoting the dialer.
 */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<HandlerOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'success', output: '' });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'failure', output: dialErrorText(addr, err) });
    });
  });
}
