import {
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

import {
  EXEC_KIND_HEADER,
  EXEC_MAX_CHUNK,
  EXEC_SEQ_HEADER,
  type ExecDataKind,
  type ExecSignalKind,
} from './exec-protocol.js';
import { AckSchedule, chunksOf, CreditWindow, ExecProtocolError, InOrder } from '../node-streams/flow.js';

export interface ExecLinkOptions {
  window: number;
  pingMs: number;
}

/** The peer sent `cancel`: its user went away. */
export class ExecCancelled extends Error {
  override name = 'ExecCancelled';
}

type DataHandler = (kind: ExecDataKind, data: Uint8Array) => Promise<void> | void;

const DATA_KINDS = new Set<string>(['stdin', 'stdin-close', 'resize', 'stdout', 'stderr', 'exit']);

/**
 * One side of an exec session (see exec-protocol.ts): receives on its own inbox, sends to the
 * peer's. Signals (acks, pings, cancel) are handled the moment they arrive; data messages queue
 * (at most a window's worth, the peer's credit bounds them) and reach the handler one at a
 * time, each acknowledged only after the handler finished with it. Keeping acks out of the data
 * queue matters: a handler blocked on a full stdin must not hold back the acks that let the
 * command's output — and so the command — move on.
 */
export class ExecLink {
  private readonly sub: Subscription;
  private readonly credits: CreditWindow;
  private readonly order = new InOrder();
  private readonly acks: AckSchedule;
  private readonly queue: { kind: ExecDataKind; seq: number; data: Uint8Array }[] = [];
  private handler: DataHandler | undefined;
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
    o: ExecLinkOptions,
  ) {
    this.credits = new CreditWindow(o.window);
    this.acks = new AckSchedule(Math.max(1, Math.floor(o.window / 2)));
    this.sub = nc.subscribe(inbox, { callback: (err, m) => (err ? this.end(err) : this.arrived(m)) });
    this.timer = setInterval(() => {
      if (!this.peer) return;
      if (Date.now() - this.lastHeard > 3 * o.pingMs) {
        this.end(new ExecProtocolError(`the other end of the exec session stopped answering`));
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
  async send(kind: ExecDataKind, data: Uint8Array | string = new Uint8Array(0)): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const chunk of chunksOf(bytes, EXEC_MAX_CHUNK)) {
      await this.credits.send((seq) => {
        if (this.ended) throw new ExecProtocolError('the exec session has ended');
        const h = natsHeaders();
        h.set(EXEC_KIND_HEADER, kind);
        h.set(EXEC_SEQ_HEADER, String(seq));
        this.nc.publish(this.peer, chunk, { headers: h });
      });
    }
  }

  /** Starts passing the peer's data messages to `handler`, in order (those queued first). */
  receive(handler: DataHandler): void {
    this.handler = handler;
    void this.pump();
  }

  /** Tells the peer to stop, and ends this side. */
  cancel(): void {
    if (this.ended) return;
    this.signal('cancel');
    this.end();
  }

  /** Ends this side: no more sends or deliveries. `error` says the session broke. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
    this.queue.length = 0;
    this.credits.close(error ?? new ExecProtocolError('the exec session has ended'));
    this.resolveClosed(error);
  }

  private signal(kind: ExecSignalKind, data = ''): void {
    if ((this.ended && kind !== 'cancel') || !this.peer) return;
    const h = natsHeaders();
    h.set(EXEC_KIND_HEADER, kind);
    try {
      this.nc.publish(this.peer, data, { headers: h });
    } catch (e) {
      // The connection closed under the session: nothing more can be said either way.
      this.end(e as Error);
    }
  }

  private arrived(m: Msg): void {
    if (this.ended) return;
    this.lastHeard = Date.now();
    const kind = m.headers?.get(EXEC_KIND_HEADER) ?? '';
    try {
      switch (kind) {
        case 'ping':
          return;
        case 'ack':
          return this.credits.ack(Number(m.string()));
        case 'cancel':
          return this.end(new ExecCancelled('the other end cancelled the exec session'));
      }
      if (!DATA_KINDS.has(kind)) throw new ExecProtocolError(`unknown exec message kind "${kind}"`);
      const seq = Number(m.headers?.get(EXEC_SEQ_HEADER));
      this.order.accept(seq);
      this.queue.push({ kind: kind as ExecDataKind, seq, data: m.data });
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
