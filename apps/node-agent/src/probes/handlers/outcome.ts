/**
 * What one handler run says (upstream pkg/probe/probe.go `Result`). A handler that cannot run
 * at all (a port name the container does not declare, an exec the engine refused) throws
 * instead: the prober retries it and, failing that, throws the result away.
 */
export type HandlerResult = 'success' | 'warning' | 'failure';

export interface HandlerOutcome {
  result: HandlerResult;
  /** The handler's output: the command's output, the response body, or the failure's text. */
  output: string;
}

/** Responses and command output are read up to this much (maxRespBodyLength / maxReadLength). */
export const MAX_PROBE_OUTPUT = 10 * 1024;

/** `host:port` with IPv6 hosts bracketed, as Go's net.JoinHostPort writes it. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A socket error in the words Go's dialer uses (`dial tcp 10.0.0.5:80: connect: connection
 * refused`): the kubelet's messages quote them, and Events and tests read them back.
 */
export function dialErrorText(addr: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${addr.replace(/:\d+$/, '')}: no such host`;
    default:
      return `dial tcp ${addr}: ${e.message}`;
  }
}
