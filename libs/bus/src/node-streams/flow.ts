/** The session broke: a message was lost, the peer vanished, or it sent nonsense. */
export class StreamProtocolError extends Error {
  override name = 'StreamProtocolError';
}

/** Receiving end: messages must arrive numbered 1, 2, 3, ... with nothing missing. */
export class InOrder {
  private expected = 1;

  accept(seq: number): void {
    if (seq !== this.expected)
      throw new StreamProtocolError(
        `stream message ${this.expected} was lost (got ${Number.isNaN(seq) ? 'none' : seq})`,
      );
    this.expected++;
  }
}

/**
 * Sending end's credit: message `seq` may go out only while `seq <= acked + window`. `send`
 * numbers and publishes in one synchronous step, so concurrent senders (stdout and stderr)
 * can never publish out of their numbering.
 */
export class CreditWindow {
  private sent = 0;
  private acked = 0;
  private closedWith: Error | undefined;
  private readonly waiting: { publish: (seq: number) => void; resolve(): void; reject(e: Error): void }[] =
    [];

  constructor(readonly window: number) {
    if (!Number.isInteger(window) || window < 1)
      throw new Error(`window must be a positive integer, got ${window}`);
  }

  /** Resolves once `publish` ran with the message's number; waits while the window is full. */
  send(publish: (seq: number) => void): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.waiting.push({ publish, resolve, reject });
      this.grant();
    });
  }

  /** The peer has consumed everything up to `seq` (cumulative; old or repeated acks are harmless). */
  ack(seq: number): void {
    if (!Number.isInteger(seq) || seq <= this.acked) return;
    if (seq > this.sent)
      throw new StreamProtocolError(`ack of stream message ${seq}, only ${this.sent} sent`);
    this.acked = seq;
    this.grant();
  }

  /** Messages sent and not yet acknowledged. */
  get inFlight(): number {
    return this.sent - this.acked;
  }

  /** Fails every waiting and future send. */
  close(error: Error): void {
    this.closedWith ??= error;
    for (const w of this.waiting.splice(0)) w.reject(this.closedWith);
  }

  private grant(): void {
    while (this.waiting.length && this.sent < this.acked + this.window) {
      const next = this.waiting.shift()!;
      try {
        next.publish(++this.sent);
        next.resolve();
      } catch (e) {
        next.reject(e as Error);
      }
    }
  }
}

/** Receiving end's acknowledgements: one for every `every` messages consumed. */
export class AckSchedule {
  private lastAcked = 0;

  constructor(readonly every: number) {}

  /** The number to acknowledge now that `seq` was consumed, if it is time. */
  consumed(seq: number): number | undefined {
    if (seq - this.lastAcked < this.every) return undefined;
    this.lastAcked = seq;
    return seq;
  }
}

/** Splits a payload into pieces of at most `max` bytes (an empty payload stays one piece). */
export function chunksOf(data: Uint8Array, max: number): Uint8Array[] {
  if (data.length <= max) return [data];
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += max) out.push(data.subarray(i, i + max));
  return out;
}
