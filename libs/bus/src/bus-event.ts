import { type EncodedEvent, type StoredEvent } from '@app/event-store';

import { subjectOf } from './subjects.js';

/** Headers every event message carries, besides Nats-Msg-Id = seq. */
export const SEQ_HEADER = 'Wake-Seq';
export const HASH_HEADER = 'Wake-Hash';

/**
 * Secret values never travel on the bus (EventReader.afterEncoded strips them in SQL, for the
 * relay and for watches reading the log alike); consumers entitled to them read them back
 * from the log. This says which events a watch that reveals secrets must read back.
 */
export function isRedactedKind(event: Pick<StoredEvent, 'resource' | 'group'>): boolean {
  return event.resource === 'secrets' && event.group === '';
}

const decoder = new TextDecoder();

/** The stream broke the relay's contract: the watch stops rather than guess. */
export class WatchBroken extends Error {
  override name = 'WatchBroken';
}

/**
 * An event as a watch reads it off the stream or the log: its seq and subject at once, its body
 * parsed on first use. A process's watches filter by subject, so the events of kinds it does
 * not watch (every Event, Lease and other pod's update a component has no interest in) pass by
 * without being parsed.
 */
export class BusEvent {
  private body: Uint8Array | string | undefined;
  private decoded: StoredEvent | undefined;

  constructor(
    readonly seq: number,
    readonly subject: string,
    body: Uint8Array | string,
  ) {
    this.body = body;
  }

  static fromLog(encoded: EncodedEvent): BusEvent {
    return new BusEvent(encoded.seq, subjectOf(encoded, encoded.node), encoded.json);
  }

  /**
   * The same event sharing nothing that readers attach to this one (its parsed form, and what
   * watches memoise by that): what a buffer keeping events long after their dispatch holds. A
   * body read off the bus is copied, since it is a view into the connection's read buffer and
   * would keep all of that alive.
   */
  detached(): BusEvent {
    const body = this.body ?? JSON.stringify(this.decoded);
    // Copied by construction: the NATS client's bodies are Buffers, whose slice() is a view.
    return new BusEvent(this.seq, this.subject, typeof body === 'string' ? body : new Uint8Array(body));
  }

  /** The event, parsed the first time it is asked for; checked to be the one its seq says. */
  get event(): StoredEvent {
    if (this.decoded) return this.decoded;
    const body = this.body as Uint8Array | string;
    const event = JSON.parse(typeof body === 'string' ? body : decoder.decode(body)) as StoredEvent;
    if (event.seq !== this.seq) {
      // The relay's contract (stream sequence = event seq) is broken: never guess.
      throw new WatchBroken(`the bus holds event ${event.seq} at sequence ${this.seq}`);
    }
    this.decoded = event;
    this.body = undefined;
    return event;
  }
}
