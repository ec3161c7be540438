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
  timer: NodeJS.Timeout;
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
        clearTimeout(p.timer);
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
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new PublishRefused(`no ack for message ${msgId} within ${this.ackTimeoutMs} ms`));
      }, this.ackTimeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers: h });
    });
  }

  close(): void {
    this.sub.unsubscribe();
    this.failAll(new Error('publisher closed'));
  }

  private failAll(e: Error): void {
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(token);
      p.reject(e);
    }
  }
}
