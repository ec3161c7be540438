import { encodeToken } from '../subjects.js';

/**
 * `kubectl exec` (and `kubectl attach`) travels between the API server and the node agent running the pod over NATS,
 * modeled on the log protocol (../node-logs):
 *
 * 1. the API server sends a request to `node.<node>.exec` naming its inbox, opened as every node
 *    stream is (../node-streams/stream-open.ts); the agent checks the pod and container and
 *    answers `{ ok: true, inbox }` with an inbox of its own, or `{ ok: false, code, message }`.
 * * 2. Each side then publishes to the other's inbox. Data messages — stdin, stdin-close and
 *    resize one way; stdout, stderr and the final exit status the other — carry a
 *    sequence number per direction on a `StreamLink` (../node-streams/stream-link.ts); a gap (a
 *    message lost) ends the session with an error, never a hole in the stream.
 * 3. Flow control: a side may have at most `window` data messages unacknowledged; the receiver
 *    acks (cumulatively) after it has passed messages on — written to the websocket, or to the
 *    command's stdin — so a fast producer waits for a slow consumer instead of flooding it.
 * 4. Both sides ping every `pingMs`; a side that hears nothing from its peer for three ping
 *    intervals ends the session (the peer died). `cancel` ends it at once (the client left).
 */
export function execSubject(node: string): string {
  return `node.${encodeToken(node)}.exec`;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  uid?: string;
  container: string;
  /** What to run; ignored when attaching. */
  command: string[];
  /** Attach to the container's own process (kubectl attach) instead of running `command`. */
  attach?: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** The API server's inbox: output, exit and its acks come here. */
  inbox: string;
  /** Milliseconds between pings; a side gives up after three intervals without a word. */
  pingMs: number;
  /** Data messages either side may have unacknowledged. */
  window: number;
}

/** How the command ended: its exit code, or why it could not run to the end. */
export type ExecExit = { exitCode: number } | { error: string };

export interface TerminalSize {
  width: number;
  height: number;
}

/** Sequenced and flow-controlled (../node-streams/stream-link.ts). */
export const EXEC_DATA_KINDS = ['stdin', 'stdin-close', 'resize', 'stdout', 'stderr', 'exit'] as const;
export type ExecDataKind = (typeof EXEC_DATA_KINDS)[number];
