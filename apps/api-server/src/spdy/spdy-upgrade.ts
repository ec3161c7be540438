import { type Duplex } from 'node:stream';

import { StatusError } from '@app/api';

import { type PendingUpgrade } from '../exec/upgrade-routing.js';

/**
 * k8s.io/apimachinery/pkg/util/httpstream Handshake: the first protocol of the client's
 * X-Stream-Protocol-Version headers (each a header of its own, or comma-separated) that this
 * side supports. None offered is a 400, none supported a 403, worded as upstream words them.
 */
export function negotiateStreamProtocol(
  header: string | string[] | undefined,
  supported: readonly string[],
): string {
  const offered = (Array.isArray(header) ? header : header ? [header] : [])
    .flatMap((h) => h.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (offered.length === 0)
    throw StatusError.badRequest('unable to upgrade: X-Stream-Protocol-Version is required');
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen)
    throw new StatusError(
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
    );
  return chosen;
}

/** Answers an upgrade to SPDY/3.1 with `protocol` and returns the connection, its early bytes put back. */
export function acceptSpdyUpgrade(upgrade: PendingUpgrade, protocol: string): Duplex {
  upgrade.socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (upgrade.head.length > 0) upgrade.socket.unshift(upgrade.head);
  return upgrade.socket;
}
