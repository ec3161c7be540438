import {
  createInbox,
  headers,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

/** What JetStream answers a publish with. */
interface PubAckBody {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

export interface PubAck {
  seq: number;
  duplicate: boolean;
}

/** JetStream refused a message (its description says why). */
export class PublishRefused extends Error {
  override name = 'PublishRefused';
}

interface Pending {
  resolve: (ack: PubAck) => void;
  reject: (e: Error) => void;
  msgId: string;
  sentAt: number;
}

const decoder = new TextDecoder();

/**
 * Publishes to a JetStream stream with many messages awaiting their ack at once, over one
 * reply subscription: the client's own `publish` sets up a request (inbox entry, timer,
 * promise chain) per message, which caps a relay far below what the server takes.
 * Messages leave in call order on one connection, so the stream stores them in that order.
 */
export class StreamPublisher {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private next = 0;
  /** One sweep for every pending ack: a timer per message costs more than the publish. */
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ackTimeoutMs = 10_000,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return this.failAll(err);
        const token = msg.subject.slice(this.inbox.length + 1);
        const p = this.pending.get(token);
        if (!p) return;
        this.pending.delete(token);
        let body: PubAckBody;
        try {
          body = JSON.parse(decoder.decode(msg.data)) as PubAckBody;
        } catch {
          // A status message without a body (503: no responders) means no stream took it.
          return p.reject(new PublishRefused(`no JetStream ack (status ${msg.headers?.code ?? '?'})`));
        }
        if (body.error || typeof body.seq !== 'number')
          return p.reject(new PublishRefused(body.error?.description ?? 'invalid ack'));
        p.resolve({ seq: body.seq, duplicate: !!body.duplicate });
      },
    });
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(1000, ackTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Sends now; resolves with the ack. `expectLastMsgId` makes the stream refuse it unless that was the last id. */
  publish(
    subject: string,
    data: Uint8Array,
    msgId: string,
    expectLastMsgId?: string,
    extra?: MsgHdrs,
  ): Promise<PubAck> {
    const h = extra ?? headers();
    h.set('Nats-Msg-Id', msgId);
    if (expectLastMsgId !== undefined) h.set('Nats-Expected-Last-Msg-Id', expectLastMsgId);
    const token = String(this.next++);
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, msgId, sentAt: performance.now() });
      this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers: h });
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    this.failAll(new Error('publisher closed'));
  }

  private failAll(e: Error): void {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(e);
    }
  }

  /** Fails the messages whose ack is overdue (the Map iterates oldest first). */
  private expire(): void {
    const cutoff = performance.now() - this.ackTimeoutMs;
    for (const [token, p] of this.pending) {
      if (p.sentAt > cutoff) return;
      this.pending.delete(token);
      p.reject(new PublishRefused(`no ack for message ${p.msgId} within ${this.ackTimeoutMs} ms`));
    }
  }
}
