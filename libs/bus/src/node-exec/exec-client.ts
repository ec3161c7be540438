import { type NatsConnection } from '@nats-io/transport-node';

import { StreamProtocolError } from '../node-streams/flow.js';
import { openStreamLink } from '../node-streams/stream-link.js';
import {
  EXEC_DATA_KINDS,
  type ExecExit,
  type ExecRequest,
  execSubject,
  type TerminalSize,
} from './exec-protocol.js';

export type ExecParams = Omit<ExecRequest, 'inbox' | 'pingMs' | 'window'>;

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

/** Starts a command on the node agent running the pod; resolves once the agent accepted. */
export async function openExec(
  nc: NatsConnection,
  node: string,
  params: ExecParams,
  o: OpenExecOptions = {},
): Promise<ExecSession> {
  const link = await openStreamLink(nc, node, execSubject(node), params, {
    ...o,
    kinds: EXEC_DATA_KINDS,
    what: 'exec session',
  });
  let exit: ExecExit | undefined;
  return {
    run: async (onOutput) => {
      link.receive(async (kind, data) => {
        if (kind === 'stdout' || kind === 'stderr') await onOutput(kind, data);
        else if (kind === 'exit') {
          exit = JSON.parse(new TextDecoder().decode(data)) as ExecExit;
          link.end();
        } else throw new StreamProtocolError(`unexpected "${kind}" from the node agent`);
      });
      const broke = await link.closed;
      if (exit) return exit;
      throw broke ?? new StreamProtocolError('the exec session ended without an exit status');
    },
    writeStdin: (data) => link.send('stdin', data),
    closeStdin: () => link.send('stdin-close'),
    resize: (size) => link.send('resize', JSON.stringify(size)),
    cancel: () => link.cancel(),
  };
}
