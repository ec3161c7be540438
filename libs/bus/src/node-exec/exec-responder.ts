import { type NatsConnection } from '@nats-io/transport-node';

import { StreamProtocolError } from '../node-streams/flow.js';
import { serveOpen } from '../node-streams/stream-open.js';
import { answerStreamLink, type LinkAccepted, type StreamLink } from '../node-streams/stream-link.js';
import {
  EXEC_DATA_KINDS,
  type ExecDataKind,
  type ExecExit,
  type ExecRequest,
  execSubject,
  type TerminalSize,
} from './exec-protocol.js';

/** Where a running command's output goes; `write` resolves once the reader has room for more. */
export interface ExecOutput {
  write(stream: 'stdout' | 'stderr', data: Uint8Array): Promise<void>;
  /** Aborts when the session ended early (the client left, the API server vanished). */
  readonly signal: AbortSignal;
}

/** A command started by an ExecTarget. */
export interface ExecProcess {
  /** Resolves once the command's stdin took the data (its pipe drained). */
  writeStdin(data: Uint8Array): Promise<void>;
  closeStdin(): void;
  resize(size: TerminalSize): Promise<void>;
  /** Resolves with the exit code once the command ended and all its output was written. */
  readonly exit: Promise<number>;
  /** Lets go of the command (the session ended early). */
  detach(): void;
}

/** Starts the command (or the attach) an ExecTarget checked. */
export type ExecStarter = (output: ExecOutput) => Promise<ExecProcess>;

/**
 * What runs commands on one node: `open` checks the request — throwing StreamRefused for an
 * unknown pod or a container that does not run — and returns what starts it on the container
 * it found.
 */
export interface ExecTarget {
  open(request: ExecRequest): Promise<ExecStarter>;
}

/** Answers exec requests for `node` with `target` until `close()`. */
export function serveExec(nc: NatsConnection, node: string, target: ExecTarget): { close(): void } {
  return serveOpen<ExecRequest, ExecStarter, LinkAccepted>(
    nc,
    execSubject(node),
    (request: ExecRequest) => target.open(request),
    async (request, start, respond) => {
      const { link, inbox } = answerStreamLink(nc, request, { kinds: EXEC_DATA_KINDS, what: 'exec session' });
      respond({ ok: true, inbox });
      await run(link, start);
    },
  );
}

async function run(link: StreamLink<ExecDataKind>, start: ExecStarter): Promise<void> {
  const abort = new AbortController();
  void link.closed.then(() => abort.abort());
  let exit: ExecExit;
  try {
    const process = await start({
      write: (stream, data) => link.send(stream, data),
      signal: abort.signal,
    });
    void link.closed.then((error) => {
      if (error) process.detach();
    });
    link.receive(async (kind, data) => {
      switch (kind) {
        case 'stdin':
          return process.writeStdin(data);
        case 'stdin-close':
          return process.closeStdin();
        case 'resize':
          // A terminal that cannot be resized is no reason to end the session.
          return process.resize(JSON.parse(new TextDecoder().decode(data)) as TerminalSize).catch(() => {});
        default:
          throw new StreamProtocolError(`unexpected "${kind}" from the API server`);
      }
    });
    exit = { exitCode: await process.exit };
  } catch (e) {
    if (abort.signal.aborted) return;
    exit = { error: (e as Error).message };
  }
  try {
    await link.send('exit', JSON.stringify(exit));
  } catch {
    // The session already ended; nobody is left to tell.
  }
  link.end();
}
