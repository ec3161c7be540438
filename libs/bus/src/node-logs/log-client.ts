import { createInbox, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';

import { AckSchedule } from '../node-streams/flow.js';
import { requestOpen } from '../node-streams/stream-open.js';
import {
  controlSubject,
  LOG_END_HEADER,
  LOG_ERROR_HEADER,
  LOG_SEQ_HEADER,
  type LogRequest,
  logsSubject,
} from './log-protocol.js';

export interface LogStream extends AsyncIterable<Uint8Array> {
  /** Tells the agent to stop and ends the iteration. */
  cancel(): void;
}

export interface OpenLogOptions {
  openTimeoutMs?: number;
  pingMs?: number;
  /** Chunks the agent may send ahead of the reader (flow control); default 16. */
  window?: number;
}

/**
 * Opens a pod's log on the node agent that runs it (StreamOpenError when it refused or did not
 * answer): resolves once the agent accepted, then
 * yields chunks in order until the agent ends the log or `cancel()` is called. Chunks are
 * numbered; a gap (a message lost on the way) ends the stream with an error, never a hole.
 */
export async function openLogStream(
  nc: NatsConnection,
  node: string,
  request: Omit<LogRequest, 'inbox' | 'pingMs' | 'window'>,
  o: OpenLogOptions = {},
): Promise<LogStream> {
  const inbox = createInbox();
  const pingMs = o.pingMs ?? 5_000;
  const window = o.window ?? 16;
  const sub = nc.subscribe(inbox);
  try {
    const body: LogRequest = { ...request, inbox, pingMs, window };
    await requestOpen(nc, node, logsSubject(node), body, o.openTimeoutMs ?? 5_000);
  } catch (e) {
    sub.unsubscribe();
    throw e;
  }
  const ping = setInterval(() => nc.publish(controlSubject(inbox), 'ping'), pingMs);
  let cancelled = false;
  const stop = () => {
    clearInterval(ping);
    sub.unsubscribe();
  };
  return {
    cancel() {
      if (cancelled) return;
      cancelled = true;
      nc.publish(controlSubject(inbox), 'cancel');
      stop();
    },
    async *[Symbol.asyncIterator]() {
      let expected = 1;
      const acks = new AckSchedule(Math.max(1, Math.floor(window / 2)));
      try {
        for await (const m of sub) {
          const h = m.headers;
          if (h?.get(LOG_END_HEADER)) {
            const error = h.get(LOG_ERROR_HEADER);
            if (error) throw new Error(error);
            return;
          }
          const seq = Number(h?.get(LOG_SEQ_HEADER));
          if (seq !== expected) throw new Error(`log chunk ${expected} was lost (got ${seq})`);
          expected++;
          yield m.data;
          // The reader asked for the next chunk: this one is handled, the agent may send more.
          const ack = acks.consumed(seq);
          if (ack !== undefined && !cancelled) nc.publish(controlSubject(inbox), `ack ${ack}`);
        }
      } finally {
        stop();
      }
    },
  };
}

/** Headers for a chunk (the responder side). */
export function chunkHeaders(seq: number) {
  const h = natsHeaders();
  h.set(LOG_SEQ_HEADER, String(seq));
  return h;
}
