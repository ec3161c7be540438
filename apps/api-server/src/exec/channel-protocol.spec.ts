import { describe, expect, it } from '@jest/globals';

import {
  CHANNEL,
  decodeClientMessage,
  encodeFrame,
  exitStatus,
  PROTOCOL_V4,
  PROTOCOL_V5,
  selectProtocol,
} from './channel-protocol.js';

describe('the WebSocket channel framing', () => {
  it('puts the channel in the first byte, the payload after it', () => {
    expect([...encodeFrame(CHANNEL.stdout, 'hi')]).toEqual([1, 0x68, 0x69]);
    expect([...encodeFrame(CHANNEL.error)]).toEqual([3]);
    expect([...encodeFrame(CHANNEL.stderr, Uint8Array.of(0, 255))]).toEqual([2, 0, 255]);
  });

  it('reads stdin, resize and (v5 only) the close signal; drops what the server does not read', () => {
    expect(decodeClientMessage(Buffer.from([0, 0x61, 0x62]), PROTOCOL_V5)).toEqual({
      type: 'stdin',
      data: Buffer.from('ab'),
    });
    expect(decodeClientMessage(encodeFrame(4, '{"Width":111,"Height":33}'), PROTOCOL_V4)).toEqual({
      type: 'resize',
      size: { width: 111, height: 33 },
    });
    expect(decodeClientMessage(Buffer.from([255, 0]), PROTOCOL_V5)).toEqual({ type: 'close', channel: 0 });
    // v4 has no close channel: 255 is just a channel nobody reads.
    expect(decodeClientMessage(Buffer.from([255, 0]), PROTOCOL_V4)).toEqual({ type: 'ignored' });
    expect(() => decodeClientMessage(Buffer.from([255, 0, 1]), PROTOCOL_V5)).toThrow(/one channel/);
    expect(decodeClientMessage(Buffer.alloc(0), PROTOCOL_V5)).toEqual({ type: 'ignored' });
    expect(decodeClientMessage(Buffer.from([1, 0x61]), PROTOCOL_V5)).toEqual({ type: 'ignored' });
    expect(decodeClientMessage(encodeFrame(4, 'not json'), PROTOCOL_V5)).toEqual({ type: 'ignored' });
    expect(decodeClientMessage(encodeFrame(4, '{"Width":"x","Height":1}'), PROTOCOL_V5)).toEqual({
      type: 'ignored',
    });
  });

  it('picks v5 over v4 from what the client offers, and nothing it does not know', () => {
    expect(selectProtocol(`${PROTOCOL_V4}, ${PROTOCOL_V5}`)).toBe(PROTOCOL_V5);
    expect(selectProtocol(PROTOCOL_V4)).toBe(PROTOCOL_V4);
    expect(selectProtocol('channel.k8s.io, base64.channel.k8s.io')).toBeUndefined();
    expect(selectProtocol(undefined)).toBeUndefined();
  });
});

describe('the error channel status', () => {
  it('is Success for exit code 0', () => {
    expect(exitStatus({ exitCode: 0 })).toEqual({ metadata: {}, status: 'Success' });
  });

  it('carries a non-zero exit code as the ExitCode cause kubectl exits with', () => {
    expect(exitStatus({ exitCode: 3 })).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('reports a command that could not run as an internal error', () => {
    expect(exitStatus({ error: 'no such file' })).toMatchObject({
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: 'Internal error occurred: error executing command in container: no such file',
    });
  });
});
