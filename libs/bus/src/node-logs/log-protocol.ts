import { encodeToken } from '../subjects.js';

/**
 * Pod logs travel from the node agent that runs the pod to the API server over NATS:
 *
 * 1. the API server sends a request to `node.<node>.logs` naming an inbox of its own, opened as
 *    every node stream is (../node-streams/stream-open.ts);
 * 2. the agent answers `{ ok: true }` (or `{ ok: false, code, message }`), then publishes the
 *    log as chunks to that inbox, each with a `Wake-Log-Seq`, and a last message with
 *    `Wake-Log-End` (and `Wake-Log-Error` if the log broke off);
 * 3. the API server sends `ping` to `<inbox>.control` every few seconds while its client
 *    listens, and `cancel` when the client goes away; an agent that hears nothing for three
 *    ping intervals stops (the API server died).
 * 4. flow control, when the request names a `window`: the agent has at most that many chunks
 *    unacknowledged; the API server sends `ack <seq>` to `<inbox>.control` once it has passed
 *    chunks on to its client, so a slow reader holds the node back instead of piling up here.
 */
export function logsSubject(node: string): string {
  return `node.${encodeToken(node)}.logs`;
}

export interface LogRequest {
  namespace: string;
  pod: string;
  uid?: string;
  container: string;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339; wins over sinceSeconds when both are given. */
  sinceTime?: string;
  timestamps?: boolean;
  previous?: boolean;
  limitBytes?: number;
  /** Where the chunks go; `<inbox>.control` carries ping and cancel. */
  inbox: string;
  /** Milliseconds between pings; the responder gives up after three missed. */
  pingMs: number;
  /** Chunks the agent may have unacknowledged; absent, it sends without waiting. */
  window?: number;
}

export const LOG_SEQ_HEADER = 'Wake-Log-Seq';
export const LOG_END_HEADER = 'Wake-Log-End';
export const LOG_ERROR_HEADER = 'Wake-Log-Error';

export function controlSubject(inbox: string): string {
  return `${inbox}.control`;
}
