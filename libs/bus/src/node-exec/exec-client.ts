import { createInbox, type NatsConnection } from '@nats-io/transport-node';

import { ExecLink } from './exec-link.js';
import {
  EXEC_DEFAULT_WINDOW,
  type ExecExit,
  type ExecOpenReply,
  type ExecRequest,
  execSubject,
  type TerminalSize,
} from './exec-protocol.js';
import { ExecProtocolError } from './flow.js';

/** The node agent refused the exec (code as an HTTP status), or none answered (503). */
export class ExecOpenError extends Error {
  override name = 'ExecOpenError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type ExecParams = Omit<ExecRequest, 'inbox' | 'pingMs' | 'window' | 'checkOnly'>;

export interface OpenExecOptions {
  openTimeoutMs?: number;
  pingMs?: number;
  window?: number;
}

export type OutputHandler = (stream: 'stdout' | 'stderr', data: Uint8Array) => Promise<void> | void;

/** The API server's end of a running exec. */
export interface ExecSession {
  /**
   * Passes the command's output to `onOutput` in order — the next chunk only once the previous
   * one's promise settled, which is what holds a fast command back — and resolves with how the
   * command ended. Rejects when the session broke (a lost message, a vanished agent).
   */
  run(onOutput: OutputHandler): Promise<ExecExit>;
  /** Resolves once the agent has room for more (its credit). */
  writeStdin(data: Uint8Array): Promise<void>;
  closeStdin(): Promise<void>;
  resize(size: TerminalSize): Promise<void>;
  /** The client went away: the agent detaches from the command. */
  cancel(): void;
}

/** Asks the agent whether the command could run (pod and running container there); runs nothing. */
export async function checkExec(
  nc: NatsConnection,
  node: string,
  params: ExecParams,
  o: OpenExecOptions = {},
): Promise<void> {
  await request(nc, node, { ...params, checkOnly: true, inbox: '', pingMs: 0, window: 1 }, o);
}

/** Starts a command on the node agent running the pod; resolves once the agent accepted. */
export async function openExec(
  nc: NatsConnection,
  node: string,
  params: ExecParams,
  o: OpenExecOptions = {},
): Promise<ExecSession> {
  const inbox = createInbox();
  const pingMs = o.pingMs ?? 5_000;
  const window = o.window ?? EXEC_DEFAULT_WINDOW;
  // Subscribed before asking, so nothing the agent sends right after accepting is missed; the
  // peer's inbox is only known from the answer.
  const link = new ExecLink(nc, inbox, '', { pingMs, window });
  try {
    const reply = await request(nc, node, { ...params, inbox, pingMs, window }, o);
    if (!reply.inbox) throw new ExecOpenError(500, `the node agent of node ${node} named no inbox`);
    link.connect(reply.inbox);
  } catch (e) {
    link.end();
    throw e;
  }
  let exit: ExecExit | undefined;
  return {
    run: async (onOutput) => {
      link.receive(async (kind, data) => {
        if (kind === 'stdout' || kind === 'stderr') await onOutput(kind, data);
        else if (kind === 'exit') {
          exit = JSON.parse(new TextDecoder().decode(data)) as ExecExit;
          link.end();
        } else throw new ExecProtocolError(`unexpected "${kind}" from the node agent`);
      });
      const broke = await link.closed;
      if (exit) return exit;
      throw broke ?? new ExecProtocolError('the exec session ended without an exit status');
    },
    writeStdin: (data) => link.send('stdin', data),
    closeStdin: () => link.send('stdin-close'),
    resize: (size) => link.send('resize', JSON.stringify(size)),
    cancel: () => link.cancel(),
  };
}

async function request(
  nc: NatsConnection,
  node: string,
  body: ExecRequest,
  o: OpenExecOptions,
): Promise<Extract<ExecOpenReply, { ok: true }>> {
  let reply: ExecOpenReply;
  try {
    const msg = await nc.request(execSubject(node), JSON.stringify(body), {
      timeout: o.openTimeoutMs ?? 5_000,
    });
    reply = msg.json<ExecOpenReply>();
  } catch (e) {
    throw new ExecOpenError(503, `the node agent of node ${node} did not answer: ${(e as Error).message}`);
  }
  if (!reply.ok) throw new ExecOpenError(reply.code, reply.message);
  return reply;
}
