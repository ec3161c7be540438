import { type JsMsg } from '@nats-io/jetstream';
import { type MsgHdrs } from '@nats-io/transport-node';
import { BaseRpcContext } from '@nestjs/microservices';

type WorkContextArgs = [subject: string, message: JsMsg, pattern: string];

/** What a work handler receives with `@Ctx()`: where the work came from and how often it was tried. */
export class JetStreamWorkContext extends BaseRpcContext<WorkContextArgs> {
  constructor(args: WorkContextArgs) {
    super(args);
  }

  /** The subject the work was published to. */
  getSubject(): string {
    return this.args[0];
  }

  /** The JetStream message itself (for headers, sequences, or `working()` in a long handler). */
  getMessage(): JsMsg {
    return this.args[1];
  }

  /** The handler pattern (the consumer's filter) that matched the subject. */
  getPattern(): string {
    return this.args[2];
  }

  /** 1 on the first delivery, 2 on the first retry, and so on. */
  getDeliveryCount(): number {
    return this.args[1].info.deliveryCount;
  }

  /** The message's sequence in the work stream. */
  getStreamSequence(): number {
    return this.args[1].seq;
  }

  getHeaders(): MsgHdrs | undefined {
    return this.args[1].headers;
  }
}
