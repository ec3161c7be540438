import { type ExecExit, type TerminalSize } from '@app/bus';

/**
 * The Kubernetes WebSocket streaming protocol for exec and attach (k8s.io/apimachinery
 * pkg/util/remotecommand/constants.go, client-go tools/remotecommand/websocket.go): every
 * message is binary, its first byte the channel. v5 adds channel 255: `[255, n]` half-closes
 * channel n (the client's stdin at EOF), which v4 cannot say.
 */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
/** Newest first: the server picks the first of these the client offers. */
export const SUPPORTED_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4] as const;

/** The subprotocol to answer with, from a `Sec-WebSocket-Protocol` header; undefined if none fits. */
export function selectProtocol(
  header: string | undefined,
  supported: readonly string[] = SUPPORTED_PROTOCOLS,
): string | undefined {
  const offered = new Set((header ?? '').split(',').map((p) => p.trim()));
  return supported.find((p) => offered.has(p));
}

export function encodeFrame(channel: number, data: Uint8Array | string = new Uint8Array(0)): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

export type ClientMessage =
  | { type: 'stdin'; data: Buffer }
  | { type: 'resize'; size: TerminalSize }
  | { type: 'close'; channel: number }
  /** Something the server drops, as upstream's wsstream.Conn does: empty, or for a channel it does not read. */
  | { type: 'ignored' };

/** Reads one client message; throws on a malformed close signal, which upstream treats as fatal. */
export function decodeClientMessage(message: Buffer, protocol: string): ClientMessage {
  if (message.length === 0) return { type: 'ignored' };
  const channel = message[0]!;
  const data = message.subarray(1);
  if (channel === CHANNEL.close && protocol === PROTOCOL_V5) {
    if (data.length !== 1) throw new Error(`a close signal names one channel, got ${data.length} bytes`);
    return { type: 'close', channel: data[0]! };
  }
  if (channel === CHANNEL.stdin) return { type: 'stdin', data };
  if (channel === CHANNEL.resize) {
    const size = parseSize(data);
    return size ? { type: 'resize', size } : { type: 'ignored' };
  }
  return { type: 'ignored' };
}

/** client-go's TerminalSize as JSON: `{"Width":80,"Height":24}`. */
export function parseSize(data: Buffer): TerminalSize | undefined {
  try {
    const { Width, Height } = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
    if (!Number.isInteger(Width) || !Number.isInteger(Height)) return undefined;
    return { width: Width as number, height: Height as number };
  } catch {
    return undefined;
  }
}

interface ErrorChannelStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason: string; message: string }[] };
}

/**
 * What goes on the error channel when the command ended, as the kubelet's ServeExec writes it
 * (pkg/kubelet/cri/streaming/remotecommand/exec.go): Success; a NonZeroExitCode failure whose
 * ExitCode cause kubectl turns into its own exit code; or an internal error.
 */
export function exitStatus(exit: ExecExit): ErrorChannelStatus {
  if ('error' in exit) return internalErrorStatus(`error executing command in container: ${exit.error}`);
  if (exit.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit code ${exit.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit.exitCode) }] },
  };
}

export function internalErrorStatus(message: string): ErrorChannelStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    code: 500,
  };
}
