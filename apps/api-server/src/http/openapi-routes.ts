import {
  OpenApiDocuments,
  type KindAddress,
  type ResourceRegistry,
  schemaCatalog,
  type SerializedDocument,
  StatusError,
} from '@app/api';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * The OpenAPI endpoints: `/openapi/v3` (root and one document per group-version, at hashed,
 * immutable URLs) and `/openapi/v2`, in JSON only. kubectl 1.27/1.28 ask for v2 in protobuf
 * alone; they get 406 and fall through to `/swagger-2.0.0.pb-v1` (404), which makes
 * `--validate=false` work there, where a JSON body would break their protobuf parser.
 */
export function registerOpenApiRoutes(
  app: FastifyInstance,
  registry: ResourceRegistry,
  version: string,
  guard: (fn: Handler) => Handler,
  createOnly: KindAddress[] = [],
): void {
  const docs = new OpenApiDocuments(registry, schemaCatalog(), version, createOnly);
  app.get(
    '/openapi/v3',
    guard(async (req, reply) => {
      acceptJson(req);
      return sendJson(reply, JSON.stringify(docs.root()), 'no-cache, private');
    }),
  );
  const groupVersion = (gvPath: string): Handler =>
    guard(async (req, reply) => {
      acceptJson(req);
      const doc = docs.v3(gvPath);
      if (!doc) throw new StatusError('NotFound', 'the server could not find the requested resource', {});
      return sendVersioned(req, reply, `/openapi/v3/${gvPath}`, doc);
    });
  app.get('/openapi/v3/api/:version', (req, reply) =>
    groupVersion(`api/${(req.params as { version: string }).version}`)(req, reply),
  );
  app.get('/openapi/v3/apis/:group/:version', (req, reply) => {
    const { group, version: v } = req.params as { group: string; version: string };
    return groupVersion(`apis/${group}/${v}`)(req, reply);
  });
  app.get(
    '/openapi/v2',
    guard(async (req, reply) => {
      acceptJson(req);
      const doc = docs.v2();
      return sendJson(reply.header('etag', `"${doc.hash}"`), doc.json, 'no-cache, private');
    }),
  );
}

/** A hashed URL is immutable; a stale hash moves to the current one (301, as upstream). */
function sendVersioned(req: FastifyRequest, reply: FastifyReply, path: string, doc: SerializedDocument) {
  const hash = (req.query as Record<string, string | undefined>).hash;
  if (hash !== undefined && hash !== doc.hash)
    return reply
      .code(301)
      .header('location', `${path}?hash=${doc.hash}`)
      .header('cache-control', 'no-cache, no-store')
      .send();
  reply.header('etag', `"${doc.hash}"`);
  return sendJson(reply, doc.json, hash === undefined ? 'no-cache, private' : 'public, immutable');
}

function sendJson(reply: FastifyReply, json: string, cacheControl: string) {
  return reply.header('content-type', 'application/json').header('cache-control', cacheControl).send(json);
}

/** The documents exist in JSON only: a client that accepts nothing else JSON-like gets 406 NotAcceptable. */
function acceptJson(req: FastifyRequest): void {
  const accept = req.headers.accept;
  if (!accept || !accept.trim()) return;
  const ranges = accept.split(',').map((r) => r.split(';')[0].trim().toLowerCase());
  if (ranges.some((r) => r === 'application/json' || r === 'application/*' || r === '*/*' || r === ''))
    return;
  throw new StatusError('NotAcceptable', 'only the following media types are accepted: application/json');
}
