import { type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';

import { StatusError } from '@app/api';
import { type FastifyInstance, type FastifyRequest } from 'fastify';

/**
 * Request bodies are read here, as bytes, whatever their Content-Type (they are decoded later,
 * by the handler that knows what it expects). Reading stops at `limit + 1` bytes, as upstream's
 * limitedReadBody does: a Content-Length above the limit is refused before a byte is read, a
 * chunked body is cut off as it passes the limit, and a gzip or deflate body (Content-Encoding)
 * is measured after inflating, so a small bomb cannot expand past the limit in memory. The
 * refusal is a 413 Status and the connection is closed, so the rest is never read.
 */
export function registerBodyReading(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    readBody(req, payload, limit).then(
      (body) => done(null, body),
      (e: unknown) => done(e as Error, undefined),
    );
  });
}

export function tooLarge(limit: number): StatusError {
  return new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** The body's bytes, decoded from its Content-Encoding, at most `limit` of them (413 beyond). */
export function readBody(req: FastifyRequest, payload: Readable, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: Readable;
  switch (encoding) {
    case '':
    case 'identity':
      source = payload;
      break;
    case 'gzip':
    case 'x-gzip':
      source = payload.pipe(createGunzip());
      break;
    case 'deflate':
      source = payload.pipe(createInflate());
      break;
    default:
      return Promise.reject(
        new StatusError(
          'UnsupportedMediaType',
          `unsupported Content-Encoding ${JSON.stringify(encoding)}: supported are gzip, deflate and identity`,
        ),
      );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (error: unknown, body?: Buffer) => {
      if (settled) return;
      settled = true;
      source.removeListener('data', onData);
      if (error) {
        // Stop reading: nothing more of this body is wanted (the reply closes the connection).
        // (Destroying the request itself would destroy the socket before the 413 is sent.)
        if (source !== payload) {
          payload.unpipe();
          source.destroy();
        }
        payload.pause();
        reject(error);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return finish(tooLarge(limit));
      chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => finish(undefined, Buffer.concat(chunks, received)));
    source.once('error', (e: Error) =>
      finish(
        e instanceof StatusError
          ? e
          : StatusError.badRequest(`the request body could not be read: ${e.message}`),
      ),
    );
    payload.once('error', (e: Error) =>
      finish(StatusError.badRequest(`the request body could not be read: ${e.message}`)),
    );
    // HTTP/2 reports a stream reset part-way (by the client, or for a body longer or shorter
    // than its Content-Length) as 'aborted' followed by an ordinary 'end': what came is not the body.
    req.raw.once('aborted', () => finish(StatusError.badRequest('the request body was not completed')));
  });
}
