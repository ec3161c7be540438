import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { type Socket } from 'node:net';

import { StatusError, type StatusReason } from '@app/api';
import { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';

import { type AnyRequest, isHttp2 } from './serving.js';

/** Reasons for the codes the HTTP layer itself answers with (the rest are the handlers' own). */
const REASONS: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'Timeout',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  431: 'BadRequest',
  503: 'ServiceUnavailable',
};

/** A framework or body-reading error as the Status a Kubernetes client expects. */
export function statusOfFrameworkError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  const code = (error as FastifyError | undefined)?.statusCode;
  const message = (error as Error | undefined)?.message ?? String(error);
  if (typeof code === 'number' && code >= 400 && code < 500)
    return new StatusError(REASONS[code] ?? 'BadRequest', message, undefined, code);
  return StatusError.internal(message);
}

/**
 * Errors raised before a route's handler runs (reading the body, the framework's own checks)
 * as Status replies. A request whose body was refused part-way (413) has unread bytes left:
 * over HTTP/1.1 the connection closes instead of reading them; over HTTP/2 only the request's
 * stream ends, as for any reply sent before its body was read (serving.ts).
 */
export function frameworkErrorReply(error: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = statusOfFrameworkError(error);
  if (status.code >= 500) req.log.error({ err: error }, 'request failed');
  const raw = req.raw as AnyRequest;
  // Fastify asks HTTP/1.1's way after a body it refused; HTTP/2 has no connection header (its
  // stream ends once the reply is out: serving.ts).
  if (isHttp2(raw)) reply.removeHeader('connection');
  else if (status.code === 413) {
    reply.header('connection', 'close');
    lingerBeforeClose(raw);
  }
  return reply.code(status.code).header('content-type', 'application/json').send(status.toStatus());
}

/**
 * Closes a connection whose request body is left unread without losing the reply: closing a
 * socket with unread input makes the kernel send a reset, and the client drops the 413 it has
 * not read yet. As Go's server does, half-close, throw away what still arrives for a moment, then
 * close. Nothing is kept of what is thrown away.
 */
function lingerBeforeClose(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  req.resume();
}

const LINGER_MS = 500;

/**
 * What Node's HTTP parser refuses before there is a request (bad framing, headers too large or
 * too slow): the status line Node would send, with a Status body, then the connection closes.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    code === 408
      ? 'the request was not received in time'
      : code === 431
        ? 'the request headers are too large'
        : `the request could not be parsed: ${error.code ?? error.message}`;
  const body = JSON.stringify(new StatusError(REASONS[code], message, undefined, code).toStatus());
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}
