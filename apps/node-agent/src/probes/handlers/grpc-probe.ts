import { connect, constants } from 'node:http2';

import { dialErrorText, type HandlerOutcome, joinHostPort } from './outcome.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** gRPC status codes as grpc-go's codes.Code.String() prints them. */
const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/**
 * A grpc probe (pkg/probe/grpc/grpc.go): one unary call of grpc.health.v1.Health/Check over
 * plaintext HTTP/2, spoken directly (a 5-byte gRPC frame around a one-field protobuf): SERVING
 * succeeds with "service healthy"; any other status, an RPC error or the timeout fails with
 * upstream's messages. Credentials are not supported, as upstream.
 */
export function grpcProbe(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
  userAgent: string,
): Promise<HandlerOutcome> {
  const addr = joinHostPort(host, port);
  const rpcFailed = (code: number, desc: string): HandlerOutcome => {
    if (code === 12)
      return {
        result: 'failure',
        output: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${desc}`,
      };
    return {
      result: 'failure',
      output: `error: health rpc probe failed: rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${desc}`,
    };
  };
  return new Promise((resolve) => {
    let settled = false;
    const session = connect(`http://${addr}`);
    const finish = (outcome: HandlerOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({
          result: 'failure',
          output: `timeout: health rpc did not complete within ${timeoutMs / 1000}s`,
        }),
      timeoutMs,
    );
    // A failed dial cancels the pending call first and then errors the session: either may
    // come first, and both name the dial's error.
    const failed = (err: Error) => {
      const cause = ((err as Error & { cause?: unknown }).cause ?? err) as NodeJS.ErrnoException;
      if (cause.syscall === 'connect' || cause.syscall === 'getaddrinfo')
        finish(
          rpcFailed(
            14,
            `connection error: desc = "transport: Error while dialing: ${dialErrorText(addr, cause)}"`,
          ),
        );
      else finish(rpcFailed(14, err.message));
    };
    session.once('error', failed);
    const call = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: '/grpc.health.v1.Health/Check',
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_USER_AGENT]: userAgent,
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let httpStatus = 0;
    let grpcStatus: number | undefined;
    let grpcMessage = '';
    const readStatus = (headers: Record<string, string | string[] | undefined>) => {
      if (headers['grpc-status'] === undefined) return;
      grpcStatus = Number(headers['grpc-status']);
      grpcMessage = decodeURIComponent(String(headers['grpc-message'] ?? ''));
    };
    call.on('response', (headers) => {
      httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
      readStatus(headers); // a "trailers-only" response carries its status here
    });
    call.on('trailers', readStatus);
    call.on('data', (c: Buffer) => chunks.push(c));
    call.on('error', failed);
    call.on('end', () => {
      if (httpStatus !== 200)
        return finish(rpcFailed(14, `unexpected HTTP status code received from server: ${httpStatus}`));
      if (grpcStatus === undefined)
        return finish(rpcFailed(13, 'server closed the stream without sending trailers'));
      if (grpcStatus !== 0) return finish(rpcFailed(grpcStatus, grpcMessage));
      const status = servingStatus(Buffer.concat(chunks));
      if (status !== 'SERVING')
        return finish({
          result: 'failure',
          output: `service unhealthy (responded with ${JSON.stringify(status)})`,
        });
      finish({ result: 'success', output: 'service healthy' });
    });
    call.end(frame(service));
  });
}

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
function frame(service: string): Buffer {
  const name = Buffer.from(service);
  const message = name.length
    ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name])
    : Buffer.alloc(0);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** HealthCheckResponse.status (field 1, a varint) of the first message; UNKNOWN when absent. */
function servingStatus(body: Buffer): string {
  if (body.length < 5) return 'UNKNOWN';
  const message = body.subarray(5, 5 + body.readUInt32BE(1));
  for (let i = 0; i < message.length;) {
    const tag = message[i++]!;
    let value = 0;
    if ((tag & 7) !== 0) break; // only varint fields are expected; stop at anything else
    for (let shift = 0; i < message.length; shift += 7) {
      const b = message[i++]!;
      value |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (tag >> 3 === 1) return SERVING_STATUS[value] ?? String(value);
  }
  return 'UNKNOWN';
}
