import {
  createInbox,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

import { AckSchedule, chunksOf, CreditWindow, InOrder, StreamProtocolError } from './flow.js';
import { requestOpen, StreamOpenError } from './stream-open.js';

/** Which kind of message a link message is (a data kind of the stream's protocol, or a signal). */
export const STREAM_KIND_HEADER = 'Wake-Stream-Kind';
/** A data message's number, from 1 per direction. */
export const STREAM_SEQ_HEADER = 'Wake-Stream-Seq';
/** Largest data payload per message; bigger writes are split (NATS' default max is 1 MiB). */
export const STREAM_MAX_CHUNK = 32 * 1024;
export const STREAM_DEFAULT_WINDOW = 16;

/** Out of band: never counted, never held back. */
type SignalKind = 'ack' | 'ping' | 'cancel';

export interface StreamLinkOptions<Kind extends string> {
  window: number;
  pingMs: number;
  /** The protocol's data kinds (sequenced and flow-controlled); any other is a protocol error. */
  kinds: readonly Kind[];
  /** What the link carries, for errors: "exec session", "port forward". */
  what: string;
}

/** The peer sent `cancel`: its user went away. */
export class StreamCancelled extends Error {
  override name = 'StreamCancelled';
}

type DataHandler<Kind> = (kind: Kind, data: Uint8Array) => Promise<void> | void;

/**
 * One side of a node stream after it opened (exec and attach, port forwarding): receives on its
 * own inbox, sends to the peer's. Data messages carry a sequence number per direction (a gap,
 * a message lost, ends the link with an error, never a hole in the stream), and a side may have
 * at most `window` of them unacknowledged. Signals (acks, pings, cancel) are handled the moment
 * they arrive; data messages queue (at most a window's worth, the peer's credit bounds them)
 * and reach the handler one at a time, each acknowledged only after the handler finished with
 * it. Keeping acks out of the data queue matters: a handler blocked on a full stdin must not
 * hold back the acks that let the command's output — and so the command — move on. Both sides
 * ping every `pingMs`; a side that hears nothing for three intervals ends the link.
 */
export class StreamLink<Kind extends string> {
  private readonly sub: Subscription;
  private readonly credits: CreditWindow;
  private readonly order = new InOrder();
  private readonly acks: AckSchedule;
  private readonly kinds: ReadonlySet<string>;
  private readonly queue: { kind: Kind; seq: number; data: Uint8Array }[] = [];
  private handler: DataHandler<Kind> | undefined;
  private pumping = false;
  private lastHeard = Date.now();
  private readonly timer: NodeJS.Timeout;
  private ended = false;
  private resolveClosed!: (error: Error | undefined) => void;
  /** Resolves when the link ends: undefined when ended on purpose, else why it broke. */
  readonly closed = new Promise<Error | undefined>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private readonly nc: NatsConnection,
    inbox: string,
    private peer: string,
    private readonly o: StreamLinkOptions<Kind>,
  ) {
    this.kinds = new Set(o.kinds);
    this.credits = new CreditWindow(o.window);
    this.acks = new AckSchedule(Math.max(1, Math.floor(o.window / 2)));
    this.sub = nc.subscribe(inbox, { callback: (err, m) => (err ? this.end(err) : this.arrived(m)) });
    this.timer = setInterval(() => {
      if (!this.peer) return;
      if (Date.now() - this.lastHeard > 3 * o.pingMs) {
        this.end(new StreamProtocolError(`the other end of the ${o.what} stopped answering`));
        return;
      }
      this.signal('ping');
    }, o.pingMs);
  }

  /** Names the peer's inbox when it was not known at construction (the API server's side). */
  connect(peer: string): void {
    this.peer = peer;
    this.lastHeard = Date.now();
  }

  /** Sends one data message, waiting for credit while the peer lags a whole window behind. */
  async send(kind: Kind, data: Uint8Array | string = new Uint8Array(0)): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const chunk of chunksOf(bytes, STREAM_MAX_CHUNK)) {
      await this.credits.send((seq) => {
        if (this.ended) throw new StreamProtocolError(`the ${this.o.what} has ended`);
        const h = natsHeaders();
        h.set(STREAM_KIND_HEADER, kind);
        h.set(STREAM_SEQ_HEADER, String(seq));
        this.nc.publish(this.peer, chunk, { headers: h });
      });
    }
  }

  /** Starts passing the peer's data messages to `handler`, in order (those queued first). */
  receive(handler: DataHandler<Kind>): void {
    this.handler = handler;
    void this.pump();
  }

  /** Tells the peer to stop, and ends this side. */
  cancel(): void {
    if (this.ended) return;
    this.signal('cancel');
    this.end();
  }

  /** Ends this side: no more sends or deliveries. `error` says the link broke. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
    this.queue.length = 0;
    this.credits.close(error ?? new StreamProtocolError(`the ${this.o.what} has ended`));
    this.resolveClosed(error);
  }

  private signal(kind: SignalKind, data = ''): void {
    if ((this.ended && kind !== 'cancel') || !this.peer) return;
    const h = natsHeaders();
    h.set(STREAM_KIND_HEADER, kind);
    try {
      this.nc.publish(this.peer, data, { headers: h });
    } catch (e) {
      // The connection closed under the link: nothing more can be said either way.
      this.end(e as Error);
    }
  }

  private arrived(m: Msg): void {
    if (this.ended) return;
    this.lastHeard = Date.now();
    const kind = m.headers?.get(STREAM_KIND_HEADER) ?? '';
    try {
      switch (kind) {
        case 'ping':
          return;
        case 'ack':
          return this.credits.ack(Number(m.string()));
        case 'cancel':
          return this.end(new StreamCancelled(`the other end cancelled the ${this.o.what}`));
      }
      if (!this.kinds.has(kind))
        throw new StreamProtocolError(`unknown ${this.o.what} message kind "${kind}"`);
      const seq = Number(m.headers?.get(STREAM_SEQ_HEADER));
      this.order.accept(seq);
      this.queue.push({ kind: kind as Kind, seq, data: m.data });
      void this.pump();
    } catch (e) {
      this.end(e as Error);
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.handler) return;
    this.pumping = true;
    try {
      while (this.queue.length && !this.ended) {
        const { kind, seq, data } = this.queue.shift()!;
        await this.handler(kind, data);
        const ack = this.acks.consumed(seq);
        if (ack !== undefined) this.signal('ack', String(ack));
      }
    } catch (e) {
      this.end(e as Error);
    } finally {
      this.pumping = false;
    }
  }
}

/** What a stream request says of the link the API server opened for it. */
export interface LinkRequest {
  /** The API server's inbox. */
  inbox: string;
  pingMs: number;
  window: number;
}

/** What an agent that accepted a stream adds to its answer: the inbox it takes the API server's messages on. */
export interface LinkAccepted {
  inbox?: string;
}

/** The protocol of a link: its data kinds, its name in errors, and the API server's timings. */
export interface LinkProtocol<Kind extends string> {
  kinds: readonly Kind[];
  what: string;
  pingMs?: number;
  window?: number;
  openTimeoutMs?: number;
}

/**
 * The API server's side of opening a node stream: subscribes its inbox first (nothing the
 * agent sends right after accepting is missed), sends `request` with the link's fields to
 * `subject` of `node`, and connects to the inbox the agent names. Throws StreamOpenError as
 * requestOpen does.
 */
export async function openStreamLink<Kind extends string, Request extends object>(
  nc: NatsConnection,
  node: string,
  subject: string,
  request: Request,
  p: LinkProtocol<Kind>,
): Promise<StreamLink<Kind>> {
  const inbox = createInbox();
  const pingMs = p.pingMs ?? 5_000;
  const window = p.window ?? STREAM_DEFAULT_WINDOW;
  const link = new StreamLink(nc, inbox, '', { pingMs, window, kinds: p.kinds, what: p.what });
  try {
    const reply = await requestOpen<LinkAccepted>(
      nc,
      node,
      subject,
      { ...request, inbox, pingMs, window } satisfies Request & LinkRequest,
      p.openTimeoutMs ?? 5_000,
    );
    if (!reply.inbox) throw new StreamOpenError(500, `the node agent of node ${node} named no inbox`);
    link.connect(reply.inbox);
  } catch (e) {
    link.end();
    throw e;
  }
  return link;
}

/** The agent's side: a link to the API server's inbox on a new inbox of its own, to name in its answer. */
export function answerStreamLink<Kind extends string>(
  nc: NatsConnection,
  request: LinkRequest,
  p: Pick<LinkProtocol<Kind>, 'kinds' | 'what'>,
): { link: StreamLink<Kind>; inbox: string } {
  const inbox = createInbox();
  const link = new StreamLink(nc, inbox, request.inbox, {
    window: request.window,
    pingMs: request.pingMs,
    kinds: p.kinds,
    what: p.what,
  });
  return { link, inbox };
}
