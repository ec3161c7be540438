import { describe, expect, it } from '@jest/globals';

import { stampAt, WatchLineTimer } from './watch-line-timer.js';

/** A watch line as the API server sends it: canonical JSON, the stamp among the annotations. */
function line(sent: number, name = 'fan-1'): string {
  return (
    `{"object":{"apiVersion":"v1","data":{"v":"0"},"kind":"ConfigMap","metadata":{"annotations":` +
    `{"bench-sent":"${sent.toFixed(3)}"},"name":"${name}","namespace":"fan0","resourceVersion":"7",` +
    `"uid":"0b1c-2d3e"}},"type":"MODIFIED"}\n`
  );
}

const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
/** One HTTP/1.1 chunk holding whole lines, as each flush of a watch writes. */
const chunk = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;

/** Feeds `bytes` to a new reader cut into `size`-byte reads; returns the status and the timer. */
function feedInPieces(bytes: Buffer, size: number, now: number, measureFrom = 0) {
  const timer = new WatchLineTimer(new Float64Array(100));
  timer.measureFrom = measureFrom;
  const reader = timer.reader();
  const statuses: string[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const status = reader.feed(bytes.subarray(at, at + size), now);
    if (status !== undefined) statuses.push(status);
  }
  return { statuses, timer };
}

describe('WatchLineTimer', () => {
  const stream = Buffer.from(
    HEAD + chunk(line(1000) + line(1001.5, 'a-sent-b')) + chunk(line(1002)) + chunk(line(1003) + line(1004)),
  );

  it.each([1, 2, 7, 13, 64, 100_000])(
    'times every line once, whatever the reads cut (%i-byte reads)',
    (size) => {
      const { statuses, timer } = feedInPieces(stream, size, 1010);
      expect(statuses).toEqual(['HTTP/1.1 200 OK']);
      expect(timer.received).toBe(5);
      expect(Array.from(timer.samples.subarray(0, timer.measured))).toEqual([10, 8.5, 8, 7, 6]);
    },
  );

  it('counts the lines of writes before measureFrom without timing them', () => {
    const { timer } = feedInPieces(stream, 9, 1010, 1002);
    expect(timer.received).toBe(5);
    expect(Array.from(timer.samples.subarray(0, timer.measured))).toEqual([8, 7, 6]);
    expect(Array.from(timer.sentAt.subarray(0, timer.measured))).toEqual([1002, 1003, 1004]);
  });

  it('waits for a line to end before reading its stamp', () => {
    const timer = new WatchLineTimer(new Float64Array(10));
    const reader = timer.reader();
    const whole = line(1000);
    reader.feed(Buffer.from(HEAD + '5a\r\n' + whole.slice(0, whole.indexOf('sent') + 12)), 2000);
    expect(timer.received).toBe(0);
    reader.feed(Buffer.from(whole.slice(whole.indexOf('sent') + 12)), 2001);
    expect(Array.from(timer.samples.subarray(0, timer.measured))).toEqual([1001]);
  });

  it('gives the status line of a refused watch', () => {
    const { statuses, timer } = feedInPieces(
      Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}'),
      5,
      0,
    );
    expect(statuses).toEqual(['HTTP/1.1 403 Forbidden']);
    expect(timer.received).toBe(0);
  });

  it('reads a stamp from its bytes as Number() reads its text, to a millionth of a millisecond', () => {
    for (const text of ['1732500000000.123', '1732500000000.5', '1732500000000', '0.001', '1001.500']) {
      const bytes = Buffer.from(`x"${text}"}`);
      expect(stampAt(bytes, 2)).toBeCloseTo(Number(text), 6);
    }
    // Ends at the buffer's end too (a stamp is only read once its line has ended, but still).
    expect(stampAt(Buffer.from('42.5'), 0)).toBe(42.5);
  });
});
