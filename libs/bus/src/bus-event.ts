import { type EncodedEvent, type StoredEvent } from '@app/event-store';

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

export function decodeEvent(data: Uint8Array | EncodedEvent): StoredEvent {
  return JSON.parse(data instanceof Uint8Array ? decoder.decode(data) : data.json) as StoredEvent;
}
