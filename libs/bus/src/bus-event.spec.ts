import { describe, expect, it } from '@jest/globals';
import { type EncodedEvent } from '@app/event-store';

import { BusEvent, WatchBroken } from './bus-event.js';
import { eventSubject } from './subjects.js';

const pod = {
  seq: 7,
  hash: 'h7',
  group: '',
  resource: 'pods',
  namespace: 'default',
  name: 'web',
  type: 'MODIFIED',
  object: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'n1' },
  },
};

describe('BusEvent', () => {
  it('has its seq and subject before any parse, the subject a decoded event would have', () => {
    const encoded: EncodedEvent = { ...pod, node: 'n1', json: JSON.stringify(pod) };
    const bus = BusEvent.fromLog(encoded);
    expect(bus.seq).toBe(7);
    expect(bus.subject).toBe(eventSubject(JSON.parse(encoded.json)));
    expect(bus.event).toEqual(pod);
    // Parsed once: the same object every time.
    expect(bus.event).toBe(bus.event);
  });

  it('parses bytes from the stream lazily, and refuses a body whose seq is not the message’s', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(pod));
    expect(new BusEvent(7, 'ev.x', bytes).event.name).toBe('web');
    const misplaced = new BusEvent(8, 'ev.x', bytes);
    expect(() => misplaced.event).toThrow(new WatchBroken('the bus holds event 7 at sequence 8'));
  });

  it('detaches a copy that shares no parsed event, and no read buffer', () => {
    // A message's body is a view into the connection's read buffer.
    const read = new TextEncoder().encode(`xx${JSON.stringify(pod)}yy`);
    const live = new BusEvent(7, 'ev.x', read.subarray(2, read.length - 2));
    const kept = live.detached();
    expect([kept.seq, kept.subject]).toEqual([7, 'ev.x']);
    expect(kept.event).toEqual(live.event);
    expect(kept.event).not.toBe(live.event);
    // Its own bytes, unparsed: the connection reusing its buffer changes nothing kept.
    const keptUnparsed = new BusEvent(7, 'ev.x', read.subarray(2, read.length - 2)).detached();
    read.fill(0x20);
    expect(keptUnparsed.event).toEqual(pod);
  });

  it('detaches a copy of a Buffer body, whose slice() would be a view of the read buffer', () => {
    // As the NATS client hands a message's data: a Buffer, a subarray of the socket's read.
    const read = Buffer.from(`xx${JSON.stringify(pod)}yy`);
    const kept = new BusEvent(7, 'ev.x', read.subarray(2, read.length - 2)).detached();
    read.fill(0x20);
    expect(kept.event).toEqual(pod);
  });

  it('detaches an event already parsed from its JSON again', () => {
    const live = new BusEvent(7, 'ev.x', new TextEncoder().encode(JSON.stringify(pod)));
    const parsed = live.event;
    const kept = live.detached();
    expect(kept.event).toEqual(parsed);
    expect(kept.event).not.toBe(parsed);
  });
});
