import { headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';

import { CreditWindow } from '../node-exec/flow.js';
import { chunkHeaders } from './log-client.js';
import {
  controlSubject,
  LOG_END_HEADER,
  LOG_ERROR_HEADER,
  type LogOpenReply,
  type LogRequest,
  logsSubject,
} from './log-protocol.js';

/**
 * Where a log source writes; `write` resolves once the chunk went out (at once, unless the
 * reader asked for flow control and lags a window behind); `signal` aborts when the reader
 * cancelled or went silent.
 */
export interface LogSink {
  write(chunk: Uint8Array | string): Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * What serves the logs of one node: `open` checks the request (and throws `{code, message}`-
 * carrying errors for unknown pods or containers), then `stream` writes the log to the sink
 * until it ends or the signal aborts.
 */
export interface LogSource {
  open(request: LogRequest): Promise<void>;
  stream(request: LogRequest, sink: LogSink): Promise<void>;
}

/** A refusal the API server passes on as a Status with this code. */
export class LogRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers log requests for `node` from `source` until `close()`. */
export function serveLogs(nc: NatsConnection, node: string, source: LogSource): { close(): void } {
  const sub = nc.subscribe(logsSubject(node), {
    callback: (err, msg) => {
      if (err) return;
      const request = msg.json<LogRequest>();
      void (async () => {
        try {
          await source.open(request);
        } catch (e) {
          const reply: LogOpenReply =
            e instanceof LogRefused
              ? { ok: false, code: e.code, message: e.message }
              : { ok: false, code: 500, message: String(e) };
          msg.respond(JSON.stringify(reply));
          return;
        }
        msg.respond(JSON.stringify({ ok: true } satisfies LogOpenReply));
        await streamTo(nc, request, source);
      })();
    },
  });
  return { close: () => sub.unsubscribe() };
}

async function streamTo(nc: NatsConnection, request: LogRequest, source: LogSource): Promise<void> {
  const abort = new AbortController();
  let lastPing = Date.now();
  const credits = request.window ? new CreditWindow(request.window) : undefined;
  abort.signal.addEventListener('abort', () => credits?.close(new Error('the log reader went away')));
  const control: Subscription = nc.subscribe(controlSubject(request.inbox), {
    callback: (_err, m) => {
      const word = m.string();
      if (word === 'cancel') return abort.abort();
      lastPing = Date.now();
      if (word.startsWith('ack ')) {
        try {
          credits?.ack(Number(word.slice(4)));
        } catch {
          abort.abort();
        }
      }
    },
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastPing > request.pingMs * 3) abort.abort();
  }, request.pingMs);
  let seq = 0;
  let error: string | undefined;
  try {
    await source.stream(request, {
      write: async (chunk) => {
        if (abort.signal.aborted) return;
        const publish = (n: number) => nc.publish(request.inbox, chunk, { headers: chunkHeaders(n) });
        if (!credits) {
          publish(++seq);
          return;
        }
        try {
          await credits.send(publish);
        } catch (e) {
          // A write that waited for credit when the reader left: the source sees the signal.
          if (!abort.signal.aborted) throw e;
        }
      },
      signal: abort.signal,
    });
  } catch (e) {
    error = (e as Error).message;
  } finally {
    clearInterval(watchdog);
    control.unsubscribe();
    if (!abort.signal.aborted) {
      const h = natsHeaders();
      h.set(LOG_END_HEADER, 'true');
      if (error) h.set(LOG_ERROR_HEADER, error);
      nc.publish(request.inbox, '', { headers: h });
    }
  }
}
