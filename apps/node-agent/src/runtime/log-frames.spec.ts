import { describe, expect, it } from '@jest/globals';

import { demuxLogs, FrameDecoder, logLines } from './log-frames.js';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxLogs', () => {
  it('splits the engine’s multiplexed stream into stdout and stderr frames', () => {
    const raw = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'ünïcode\n')]);
    expect(demuxLogs(raw)).toEqual([
      { stream: 'stdout', text: 'out\n' },
      { stream: 'stderr', text: 'err\n' },
      { stream: 'stdout', text: 'ünïcode\n' },
    ]);
  });

  it('reads an empty log as no frames', () => {
    expect(demuxLogs(Buffer.alloc(0))).toEqual([]);
  });

  it('rejects truncated or unknown frames instead of guessing', () => {
    expect(() => demuxLogs(frame(1, 'out\n').subarray(0, 10))).toThrow(/malformed/);
    expect(() => demuxLogs(frame(1, 'out\n').subarray(0, 5))).toThrow(/frame header/);
    expect(() => demuxLogs(frame(3, 'x'))).toThrow(/malformed/);
  });
});

describe('logLines', () => {
  it('splits frames into lines, keeping a last line without a newline', () => {
    expect(
      logLines(
        [
          { stream: 'stdout', text: 'a\nb\n' },
          { stream: 'stderr', text: 'c' },
        ],
        false,
      ),
    ).toEqual([
      { stream: 'stdout', line: 'a' },
      { stream: 'stdout', line: 'b' },
      { stream: 'stderr', line: 'c' },
    ]);
  });

  it('takes each line’s leading timestamp when timestamps were asked for', () => {
    const text = '2026-11-22T07:50:01.123456789Z hello world\n2026-11-22T07:50:02.000000001Z \n';
    expect(logLines([{ stream: 'stdout', text }], true)).toEqual([
      { stream: 'stdout', timestamp: '2026-11-22T07:50:01.123456789Z', line: 'hello world' },
      { stream: 'stdout', timestamp: '2026-11-22T07:50:02.000000001Z', line: '' },
    ]);
  });
});

describe('FrameDecoder', () => {
  it('decodes a stream split anywhere, frames as bytes, holding partial frames back', () => {
    const raw = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'ünï\n')]);
    for (let cut = 0; cut <= raw.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(raw.subarray(0, cut)), ...decoder.push(raw.subarray(cut))];
      expect(frames.map((f) => [f.stream, f.data.toString()])).toEqual([
        ['stdout', 'out\n'],
        ['stderr', 'err\n'],
        ['stdout', 'ünï\n'],
      ]);
      expect(decoder.end()).toBe(true);
    }
    const partial = new FrameDecoder();
    expect(partial.push(raw.subarray(0, 10))).toEqual([]);
    expect(partial.end()).toBe(false);
  });

  it('rejects an unknown stream id instead of guessing', () => {
    expect(() => new FrameDecoder().push(frame(3, 'x'))).toThrow(/malformed/);
  });
});
