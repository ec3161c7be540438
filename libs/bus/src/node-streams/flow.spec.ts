import { describe, expect, it } from '@jest/globals';

import { AckSchedule, chunksOf, CreditWindow, StreamProtocolError, InOrder } from './flow.js';

describe('InOrder', () => {
  it('accepts 1, 2, 3, ... and calls any gap, repeat or missing number a lost message', () => {
    const order = new InOrder();
    order.accept(1);
    order.accept(2);
    expect(() => order.accept(4)).toThrow(new StreamProtocolError('stream message 3 was lost (got 4)'));
    const again = new InOrder();
    again.accept(1);
    expect(() => again.accept(1)).toThrow(/message 2 was lost \(got 1\)/);
    expect(() => new InOrder().accept(Number(undefined))).toThrow(/message 1 was lost \(got none\)/);
  });
});

describe('CreditWindow', () => {
  it('lets `window` messages out, holds the next until an ack, and numbers them in order', async () => {
    const w = new CreditWindow(2);
    const published: number[] = [];
    const sends = [1, 2, 3, 4, 5].map(() => w.send((seq) => published.push(seq)));
    await Promise.all(sends.slice(0, 2));
    expect(published).toEqual([1, 2]);
    expect(w.inFlight).toBe(2);
    let third = false;
    void sends[2]!.then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    w.ack(1);
    await sends[2];
    expect(published).toEqual([1, 2, 3]);
    // A cumulative ack releases as many as it frees.
    w.ack(3);
    await Promise.all(sends);
    expect(published).toEqual([1, 2, 3, 4, 5]);
  });

  it('ignores old and repeated acks, and refuses an ack of a message never sent', async () => {
    const w = new CreditWindow(1);
    await w.send(() => {});
    w.ack(1);
    w.ack(1);
    w.ack(0);
    expect(w.inFlight).toBe(0);
    expect(() => w.ack(5)).toThrow(StreamProtocolError);
  });

  it('keeps concurrent senders in numbering order: a publish happens in the same step as its number', async () => {
    const w = new CreditWindow(1);
    const log: string[] = [];
    const a = w.send((seq) => log.push(`a${seq}`));
    const b = w.send((seq) => log.push(`b${seq}`));
    const c = w.send((seq) => log.push(`c${seq}`));
    w.ack(1);
    w.ack(2);
    await Promise.all([a, b, c]);
    expect(log).toEqual(['a1', 'b2', 'c3']);
  });

  it('fails waiting and later sends once closed', async () => {
    const w = new CreditWindow(1);
    await w.send(() => {});
    const waiting = w.send(() => {});
    w.close(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await expect(w.send(() => {})).rejects.toThrow('gone');
  });

  it('passes a publish failure to that sender; its number is spent, so the receiver sees a gap', async () => {
    const w = new CreditWindow(3);
    await expect(
      w.send(() => {
        throw new Error('closed connection');
      }),
    ).rejects.toThrow('closed connection');
    const seqs: number[] = [];
    await w.send((seq) => seqs.push(seq));
    expect(seqs).toEqual([2]);
  });
});

describe('AckSchedule', () => {
  it('acknowledges every `every` messages, cumulatively', () => {
    const acks = new AckSchedule(3);
    expect([1, 2, 3, 4, 5, 6, 7].map((seq) => acks.consumed(seq))).toEqual([
      undefined,
      undefined,
      3,
      undefined,
      undefined,
      6,
      undefined,
    ]);
  });
});

describe('chunksOf', () => {
  it('splits a payload into pieces no larger than the limit, keeping every byte', () => {
    const data = Uint8Array.from({ length: 10 }, (_, i) => i);
    const pieces = chunksOf(data, 4);
    expect(pieces.map((p) => Array.from(p))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(chunksOf(new Uint8Array(0), 4)).toHaveLength(1);
  });
});
