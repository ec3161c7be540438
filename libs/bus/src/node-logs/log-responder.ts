import { headers as natsHeaders, type NatsConnection, type Subscription } from '@nats-io/transport-node';

import { CreditWindow } from '../node-streams/flow.js';
import { serveOpen } from '../node-streams/stream-open.js';
import { chunkHeaders } from './log-client.js';
import {
  controlSubject,
  LOG_END_HEADER,
  LOG_ERROR_HEADER,
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

/** Writes one log to a sink until it ends or the sink's signal aborts. */
export type LogWriter = (sink: LogSink) => Promise<void>;

/**
 * What serves the logs of one node: `open` checks the request — throwing StreamRefused for
 * an unknown pod or container — and returns what writes that log (found once, used for it).
 */
export interface LogSource {
  open(request: LogRequest): Promise<LogWriter>;
}

/** Answers log requests for `node` from `source` until `close()`. */
export function serveLogs(nc: NatsConnection, node: string, source: LogSource): { close(): void } {
  return serveOpen(
    nc,
    logsSubject(node),
    (request: LogRequest) => source.open(request),
    async (request, writeLog, respond) => {
      respond({ ok: true });
      await streamTo(nc, request, writeLog);
    },
  );
}

async function streamTo(nc: NatsConnection, request: LogRequest, writeLog: LogWriter): Promise<void> {
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
    await writeLog({
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
