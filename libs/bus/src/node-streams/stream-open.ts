import { type Msg, type NatsConnection } from '@nats-io/transport-node';

/**
 * The opening both node streams share (pod logs, ../node-logs; exec and attach, ../node-exec):
 * the API server sends its request to a subject of the node (`node.<node>.logs`, `.exec`) as
 * NATS request/reply — no responder means the agent is unreachable — and the agent checks it
 * and answers `{ ok: true, ... }` or `{ ok: false, code, message }` before anything streams.
 */
export type StreamOpenReply<Accepted extends object = object> =
  ({ ok: true } & Accepted) | { ok: false; code: number; message: string };

/** A node agent's refusal of a stream (an unknown pod, a container not running): the API server passes it on as a Status with this code. */
export class StreamRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API server's side of a refusal: the agent refused (its code), or none answered (503). */
export class StreamOpenError extends Error {
  override name = 'StreamOpenError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Answers the stream requests on `subject` until `close()`: `open` checks one, throwing
 * StreamRefused (any other failure is a 500), and returns what the stream needs; `accepted`
 * then answers the request (through `respond`) and runs the stream.
 */
export function serveOpen<Request, Opened, Accepted extends object = object>(
  nc: NatsConnection,
  subject: string,
  open: (request: Request) => Promise<Opened>,
  accepted: (
    request: Request,
    opened: Opened,
    respond: (reply: StreamOpenReply<Accepted>) => void,
  ) => Promise<void>,
): { close(): void } {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      void answer(msg);
    },
  });
  const respond = (msg: Msg) => (reply: StreamOpenReply<Accepted>) => msg.respond(JSON.stringify(reply));
  const answer = async (msg: Msg) => {
    const request = msg.json<Request>();
    let opened: Opened;
    try {
      opened = await open(request);
    } catch (e) {
      respond(msg)(
        e instanceof StreamRefused
          ? { ok: false, code: e.code, message: e.message }
          : { ok: false, code: 500, message: String(e) },
      );
      return;
    }
    await accepted(request, opened, respond(msg));
  };
  return { close: () => sub.unsubscribe() };
}

/**
 * Sends a stream request to `subject` of `node` and resolves with the agent's acceptance;
 * throws StreamOpenError with the agent's code when it refused, 503 when none answered.
 */
export async function requestOpen<Accepted extends object = object>(
  nc: NatsConnection,
  node: string,
  subject: string,
  request: object,
  timeoutMs: number,
): Promise<{ ok: true } & Accepted> {
  let reply: StreamOpenReply<Accepted>;
  try {
    const msg = await nc.request(subject, JSON.stringify(request), { timeout: timeoutMs });
    reply = msg.json<StreamOpenReply<Accepted>>();
  } catch (e) {
    throw new StreamOpenError(503, `the node agent of node ${node} did not answer: ${(e as Error).message}`);
  }
  if (!reply.ok) throw new StreamOpenError(reply.code, reply.message);
  return reply;
}
