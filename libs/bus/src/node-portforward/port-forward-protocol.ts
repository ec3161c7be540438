import { encodeToken } from '../subjects.js';

/**
 * One forwarded connection of `kubectl port-forward` between the API server and the node agent
 * running the pod, over NATS, opened as every node stream is (../node-streams/stream-open.ts):
 *
 * 1. the API server sends a request to `node.<node>.portforward` naming the pod, the port and
 *    its inbox; the agent connects to the port of the pod and answers `{ ok: true, inbox }`,
 *    or `{ ok: false, code, message }` when there is no such pod or the connection failed —
 *    the message the kubelet would write on the forward's error stream.
 * 2. The bytes then travel both ways on a `StreamLink` (../node-streams/stream-link.ts:
 *    numbered, flow-controlled, pinged) as `data` messages. `eof` says a side will send no
 *    more: from the API server, the client closed its end (the agent half-closes the pod's
 *    connection); from the agent, the pod closed its end. `error` (from the agent) says the
 *    connection failed midway, and why. The API server ends the link after the agent's `eof` or
 *    `error`, and cancels it when the client goes away.
 */
export function portForwardSubject(node: string): string {
  return `node.${encodeToken(node)}.portforward`;
}

export interface PortForwardRequest {
  namespace: string;
  pod: string;
  uid?: string;
  port: number;
  /** The API server's inbox: the pod's bytes and the agent's acks come here. */
  inbox: string;
  /** Milliseconds between pings; a side gives up after three intervals without a word. */
  pingMs: number;
  /** Data messages either side may have unacknowledged. */
  window: number;
}

export const PORT_FORWARD_DATA_KINDS = ['data', 'eof', 'error'] as const;
export type PortForwardDataKind = (typeof PORT_FORWARD_DATA_KINDS)[number];
