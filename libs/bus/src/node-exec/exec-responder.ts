import { createInbox, type NatsConnection } from '@nats-io/transport-node';

import { ExecLink } from './exec-link.js';
import {
  type ExecExit,
  type ExecOpenReply,
  type ExecRequest,
  execSubject,
  type TerminalSize,
} from './exec-protocol.js';
import { ExecProtocolError } from './flow.js';

/** A refusal the API server passes on as a Status with this code. */
export class ExecRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

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

/** What runs commands on one node: `open` checks (throwing ExecRefused), `start` runs. */
export interface ExecTarget {
  open(request: ExecRequest): Promise<void>;
  start(request: ExecRequest, output: ExecOutput): Promise<ExecProcess>;
}

/** Answers exec requests for `node` with `target` until `close()`. */
export function serveExec(nc: NatsConnection, node: string, target: ExecTarget): { close(): void } {
  const sub = nc.subscribe(execSubject(node), {
    callback: (err, msg) => {
      if (err) return;
      const request = msg.json<ExecRequest>();
      void (async () => {
        try {
          await target.open(request);
        } catch (e) {
          const reply: ExecOpenReply =
            e instanceof ExecRefused
              ? { ok: false, code: e.code, message: e.message }
              : { ok: false, code: 500, message: String(e) };
          msg.respond(JSON.stringify(reply));
          return;
        }
        if (request.checkOnly) {
          msg.respond(JSON.stringify({ ok: true } satisfies ExecOpenReply));
          return;
        }
        const inbox = createInbox();
        const link = new ExecLink(nc, inbox, request.inbox, {
          window: request.window,
          pingMs: request.pingMs,
        });
        msg.respond(JSON.stringify({ ok: true, inbox } satisfies ExecOpenReply));
        await run(link, request, target);
      })();
    },
  });
  return { close: () => sub.unsubscribe() };
}

async function run(link: ExecLink, request: ExecRequest, target: ExecTarget): Promise<void> {
  const abort = new AbortController();
  void link.closed.then(() => abort.abort());
  let exit: ExecExit;
  try {
    const process = await target.start(request, {
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
          throw new ExecProtocolError(`unexpected "${kind}" from the API server`);
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
