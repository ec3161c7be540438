import { type Duplex } from 'node:stream';

import { type ExecParams, type ExecSession } from '@app/bus';

import { RstStatus } from '../spdy/spdy-frames.js';
import { SpdyServerSession, type SpdyStream } from '../spdy/spdy-session.js';
import { exitStatus, internalErrorStatus, parseSize } from './channel-protocol.js';

/** The remote-command protocol over SPDY that kubectl ≤ 1.29 speaks by default (and newer ones fall back to). */
export const SPDY_EXEC_PROTOCOL = 'v4.channel.k8s.io';

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

export interface SpdyExecOptions {
  /** How long the client may take to open its streams (the kubelet's stream creation timeout). */
  streamTimeoutMs: number;
}

/**
 * Carries one exec between kubectl's SPDY session and the agent's NATS session, as the
 * kubelet's v4 handler does (pkg/kubelet/cri/streaming/remotecommand/httpstream.go): the client
 * opens an error stream and one stream per standard stream it asked for, plus `resize` with a
 * TTY, each named by its `streamType` header; once all are there the command's output flows,
 * stdin's FIN closes its stdin, resize carries JSON terminal sizes one after another, and the
 * end is a Status on the error stream — the same the WebSocket protocol puts on its error
 * channel — after which the session closes.
 */
export function bridgeSpdyExec(
  io: Duplex,
  params: ExecParams,
  session: ExecSession,
  o: SpdyExecOptions,
): SpdyServerSession {
  const wanted = new Set<StreamType>(['error']);
  if (params.stdin) wanted.add('stdin');
  if (params.stdout) wanted.add('stdout');
  if (params.stderr) wanted.add('stderr');
  if (params.tty) wanted.add('resize');
  const streams = new Map<StreamType, SpdyStream>();
  let started = false;
  let finished = false;

  const spdy = new SpdyServerSession(io, (stream) => {
    const type = stream.header('streamtype') as StreamType | undefined;
    // The kubelet's v4 handler refuses an unknown or repeated stream type.
    if (!type || !wanted.has(type) || streams.has(type)) return stream.reset(RstStatus.protocolError);
    streams.set(type, stream);
    void stream.reply();
    if (type === 'stdin') {
      // Awaited: a command slow to read its stdin holds the client back (the session reads on once written).
      stream.onData = (data) => session.writeStdin(data).catch(() => undefined);
      stream.onEnd = () => void session.closeStdin().catch(() => undefined);
    } else if (type === 'resize') stream.onData = resizes(session);
    if (streams.size === wanted.size) start();
  });
  const timer = setTimeout(() => {
    // remotecommand: "timed out waiting for client to create streams"; nothing runs.
    if (!started) spdy.close();
  }, o.streamTimeoutMs);

  function start(): void {
    started = true;
    clearTimeout(timer);
    void session
      .run(async (stream, data) => {
        await streams.get(stream)?.write(data);
      })
      .then(exitStatus, (e: Error) => internalErrorStatus(e.message))
      .then(async (status) => {
        finished = true;
        await streams.get('error')?.write(Buffer.from(JSON.stringify(status)));
        for (const stream of streams.values()) await stream.end();
        spdy.close();
      });
  }

  void spdy.done.then(() => {
    clearTimeout(timer);
    if (!finished) session.cancel();
  });
  return spdy;
}

/** The resize stream: client-go's JSON encoder writes one TerminalSize after another, each on its own line. */
function resizes(session: ExecSession): (data: Buffer) => Promise<void> {
  let pending = '';
  return async (data) => {
    pending += data.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const size = parseSize(Buffer.from(pending.slice(0, newline)));
      pending = pending.slice(newline + 1);
      // A size that does not parse is skipped, as the WebSocket resize channel skips it.
      if (size) await session.resize(size).catch(() => undefined);
    }
  };
}
