import { type StoredEvent, type StoredObject } from '@app/event-store';

/** Headers every event message carries, besides Nats-Msg-Id = seq. */
export const SEQ_HEADER = 'Wake-Seq';
export const HASH_HEADER = 'Wake-Hash';
/** Present when a payload travelled without its secret data. */
export const REDACTED_HEADER = 'Wake-Redacted';

/** Secret values never travel on the bus: consumers that need them read them through the API. */
export function isRedactedKind(event: Pick<StoredEvent, 'resource' | 'group'>): boolean {
  return event.resource === 'secrets' && event.group === '';
}

export function redacted(object: StoredObject | null): StoredObject | null {
  if (!object) return object;
  const copy = { ...object };
  delete copy.data;
  delete copy.stringData;
  return copy;
}

/** The event as it travels: secret data removed. */
export function busForm(event: StoredEvent): StoredEvent {
  return isRedactedKind(event) ? { ...event, object: redacted(event.object) } : event;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(event: StoredEvent): Uint8Array {
  return encoder.encode(JSON.stringify(busForm(event)));
}

export function decodeEvent(data: Uint8Array): StoredEvent {
  return JSON.parse(decoder.decode(data)) as StoredEvent;
}
