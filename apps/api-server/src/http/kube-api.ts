import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  apiVersionOf,
  type DiscoveryCatalog,
  discoveryCatalog,
  isObject,
  negotiateDiscovery,
  parseIncludeObject,
  parseLabelSelector,
  type ResourceRegistry,
  type ResourceType,
  StatusError,
  toServed,
  versionInfo,
} from '@app/api';
import { type WatchHub } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';
import { type Actor, type EventStore, tooLargeResourceVersion } from '@app/event-store';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import { type TokenRequests } from '../auth/token-request.js';
import { forbidden } from '../authz/forbidden.js';
import { impersonate } from '../authz/impersonation.js';
import { type RbacAuthorizer } from '../authz/rbac-authorizer.js';
import { requestAttributes } from '../authz/request-attributes.js';
import { type CachedList, type ListCache } from '../cache/list-cache.js';
import { answerReview, REVIEW_DISCOVERY, REVIEWS } from '../auth/reviews.js';
import { PodExecEndpoint } from '../exec/pod-exec.js';
import { routeUpgradesAsRequests } from '../exec/upgrade-routing.js';
import { PodPortForwardEndpoint } from '../portforward/pod-port-forward.js';
import { servePodLog } from '../logs/pod-log.js';
import { type ApiMetrics, type RequestLabels } from '../metrics/api-metrics.js';
import { type ObjectService } from '../objects/object-service.js';
import { type PartSubresource } from '../objects/subresource-parts.js';
import { type RequestContext } from '../objects/request-context.js';
import { objectKeyOf, streamWatch } from '../watch/watch-stream.js';
import {
  parseKindFieldSelector,
  parseListQuery,
  parseResourceVersion,
  parseTimeoutSeconds,
  type RawQuery,
} from './list-query.js';
import { registerBodyReading } from './body-reading.js';
import { drained } from '@app/bus';
import { registerOpenApiRoutes } from './openapi-routes.js';
import { tableVersion } from './negotiation.js';
import {
  parseDryRun,
  parseFieldManager,
  RequestDecoder,
  requestContext,
  toDeleteOptions,
  warningHeaders,
} from './request-decoding.js';
import { isWatch, parseResourcePath, type ResourcePath } from './request-info.js';
import { responseGone } from './serving.js';
import { toTable } from './tables.js';

export interface KubeApiOptions {
  registry: ResourceRegistry;
  objects: ObjectService;
  store: EventStore;
  hub: WatchHub;
  nats: NatsConnection;
  authenticate: (token: string) => Actor | undefined | Promise<Actor | undefined>;
  /** Decides every authenticated request, and answers the self reviews (`kubectl auth can-i`). */
  authorizer: RbacAuthorizer;
  /** `serviceaccounts/<name>/token` (absent: the subresource is not served). */
  tokenRequests?: TokenRequests;
  /** host:port clients reach the server at (legacy discovery reports it); known once listening. */
  serverAddress: () => string;
  wakeVersion: string;
  /** Longest a watch lasts before the server ends it; clients re-watch (upstream: 30–60 min). */
  watchTimeoutMs: number;
  bookmarkIntervalMs: number;
  /** Largest request body accepted (413 beyond). */
  maxBodyBytes: number;
  metrics: ApiMetrics;
  /** Serves whole lists from memory (absent: every list reads Postgres). */
  listCache?: ListCache;
}

type Query = Record<string, string | undefined>;

const ALL_METHODS: ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[] = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
];

/** Fields no change can alter: a watch selecting on them alone never sees an object come or go. */
const IDENTITY_FIELDS = new Set(['metadata.name', 'metadata.namespace']);

/** Paths anyone may read, as upstream's system:public-info-viewer allows. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

const ACTOR = Symbol('actor');
/** The labels the request's latency is counted under, once its path is known. */
const LATENCY = Symbol('latency');
type AuthedRequest = FastifyRequest & { [ACTOR]?: Actor; [LATENCY]?: RequestLabels };

/**
 * The Kubernetes REST surface: discovery, the resource paths of every registered kind with
 * their verbs and subresources, watches, Tables and Status errors, behind bearer-token auth.
 */
export class KubeApi {
  private readonly decode: RequestDecoder;
  private readonly exec: PodExecEndpoint;
  private readonly portForward: PodPortForwardEndpoint;
  /** What discovery lists: the registry's kinds and the reviews' routes. */
  private readonly catalog: DiscoveryCatalog;

  constructor(private readonly o: KubeApiOptions) {
    this.decode = new RequestDecoder();
    this.catalog = discoveryCatalog(o.registry, REVIEW_DISCOVERY);
    this.exec = new PodExecEndpoint({ nats: o.nats, objects: o.objects });
    this.portForward = new PodPortForwardEndpoint({ nats: o.nats, objects: o.objects, metrics: o.metrics });
  }

  register(app: FastifyInstance): void {
    // Bodies are decoded here by their Content-Type (JSON, YAML, the patch types), so take
    // every body as bytes, within the limit; a request without a Content-Type is JSON.
    registerBodyReading(app, this.o.maxBodyBytes);
    // Upgrades (exec, attach, port-forward) go through the same routing, auth and Statuses as any request.
    routeUpgradesAsRequests(app.server);
    this.exec.register(app);
    this.portForward.register(app);
    app.addHook('onRequest', async (req: AuthedRequest, reply) => {
      const path = req.url.split('?')[0];
      // Read only: a body sent there would be read before anyone is known.
      if (PUBLIC_PATHS.has(path) && (req.method === 'GET' || req.method === 'HEAD')) return;
      const header = req.headers.authorization;
      // Node keeps the first of two Authorization headers; which one a proxy checked is unknown.
      const token =
        header?.startsWith('Bearer ') && authorizationHeaders(req) === 1 ? header.slice(7).trim() : undefined;
      const actor = token ? await this.o.authenticate(token) : undefined;
      if (!actor) {
        return reply
          .code(401)
          .header('content-type', 'application/json')
          .send(new StatusError('Unauthorized', 'Unauthorized').toStatus());
      }
      // A path that does not decode, or a decision that cannot be made, gets its Status here:
      // nothing is served unauthorized.
      try {
        const acting = impersonate(actor, req.raw.rawHeaders, (a) => this.o.authorizer.authorize(a)) ?? actor;
        req[ACTOR] = acting;
        const attributes = requestAttributes(acting, req.method, req.url);
        const decision = this.o.authorizer.authorize(attributes);
        if (!decision.allowed) return this.fail(reply, forbidden(attributes, decision.reason));
        // The grant a write is made under goes into its events with the actor (a copy: the
        // authenticator caches actors across requests).
        if (decision.reason) req[ACTOR] = Object.assign({}, acting, { authorizedBy: decision.reason });
      } catch (e) {
        return this.fail(reply, e);
      }
    });

    // Upstream's request latency SLI: receipt to last byte, per verb and resource, watches aside.
    app.addHook('onResponse', async (req, reply) => {
      const labels = (req as AuthedRequest)[LATENCY];
      if (labels) this.o.metrics.requestDone(labels, reply.elapsedTime / 1000, reply.statusCode);
    });
    app.get('/metrics', async (_req, reply) =>
      reply.header('content-type', this.o.metrics.contentType).send(await this.o.metrics.render()),
    );
    for (const path of ['/healthz', '/livez', '/readyz'])
      app.get(path, async (_req, reply) => reply.type('text/plain').send('ok'));
    app.get('/version', async () => versionInfo(this.o.wakeVersion));
    app.get('/api', async (req, reply) => this.discovery(req, reply, 'core'));
    app.get('/apis', async (req, reply) => this.discovery(req, reply, 'apis'));
    app.get('/api/v1', async () => apiResourceList(this.catalog, '', 'v1'));
    app.get(
      '/apis/:group',
      this.guard(async (req) => {
        const { group } = req.params as { group: string };
        const g = this.catalog.groups().find((x) => x.name === group);
        if (!g) throw new StatusError('NotFound', 'the server could not find the requested resource', {});
        return apiGroup(g);
      }),
    );
    app.get(
      '/apis/:group/:version',
      this.guard(async (req) => {
        const { group, version } = req.params as { group: string; version: string };
        if (this.catalog.inVersion(group, version).length === 0)
          throw new StatusError('NotFound', 'the server could not find the requested resource', {});
        return apiResourceList(this.catalog, group, version);
      }),
    );
    registerOpenApiRoutes(app, this.o.registry, this.o.wakeVersion, (fn) => this.guard(fn), REVIEW_DISCOVERY);
    // Warn-mode field validation's findings: one `Warning: 299` header each (kubectl prints them).
    app.addHook('onSend', async (req, reply, payload) => {
      const warnings = warningHeaders(req);
      if (warnings.length) reply.header('warning', warnings);
      return payload;
    });
    this.registerReviews(app);
    const handler = (req: FastifyRequest, reply: FastifyReply) => this.resource(req as AuthedRequest, reply);
    for (const prefix of ['/api/v1/*', '/apis/:group/:version/*'])
      app.route({ method: ALL_METHODS, url: prefix, handler: this.guard(handler) });
    // Everything else is a Kubernetes 404, not the framework's.
    app.route({
      method: ALL_METHODS,
      url: '*',
      handler: this.guard(async () => {
        throw new StatusError('NotFound', 'the server could not find the requested resource', {});
      }),
    });
  }

  /** The create-only reviews (see reviews.ts): answered, never stored. */
  private registerReviews(app: FastifyInstance): void {
    for (const review of REVIEWS)
      app.route({
        method: ALL_METHODS,
        url: review.path,
        handler: this.guard(async (req, reply) => {
          if (req.method !== 'POST')
            throw new StatusError(
              'MethodNotAllowed',
              'the server does not allow this method on the requested resource',
              {},
            );
          return reply.code(201).send(
            answerReview(review, this.decode.object(req), {
              actor: (req as AuthedRequest)[ACTOR] as Actor,
              authorizer: this.o.authorizer,
              namespace: (req.params as { namespace?: string }).namespace,
            }),
          );
        }),
      });
  }

  /** Every failure becomes a Status reply, whatever error handler the framework installs. */
  private guard(fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) {
    return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      try {
        return await fn(req, reply);
      } catch (e) {
        if (reply.sent || reply.raw.headersSent) {
          reply.raw.destroy(e as Error);
          return reply;
        }
        return this.fail(reply, e);
      }
    };
  }

  private discovery(req: FastifyRequest, reply: FastifyReply, which: 'core' | 'apis') {
    const v = negotiateDiscovery(req.headers.accept);
    if (!v) return which === 'core' ? apiVersions(this.o.serverAddress()) : apiGroupList(this.catalog);
    return reply
      .header('content-type', aggregatedContentType(v))
      .header('vary', 'Accept')
      .send(Buffer.from(JSON.stringify(aggregatedDiscovery(this.catalog, which, v))));
  }

  private async resource(req: AuthedRequest, reply: FastifyReply): Promise<unknown> {
    const path = parseResourcePath(req.url.split('?')[0]);
    if (!path) throw new StatusError('NotFound', 'the server could not find the requested resource', {});
    const t = this.o.registry.get(path.group, path.version, path.resource);
    // Only served resources and subresources get latency series: random paths add none.
    if (!path.subresource || servesSubresource(t, path.subresource))
      req[LATENCY] = latencyLabels(path, req.method, req.query as Query);
    const q = req.query as Query;
    if (path.namespace !== undefined && !t.namespaced)
      throw new StatusError('NotFound', 'the server could not find the requested resource', {});
    const ctx = requestContext(req, req[ACTOR] as Actor);
    const dryRun = parseDryRun(q.dryRun);
    const method = req.method;

    if (path.subresource) return this.subresource(req, reply, t, path, ctx, dryRun);

    if (!path.name) {
      if (method === 'GET') return this.listOrWatch(req, reply, t, path, q);
      if (method === 'POST') {
        if (t.namespaced && path.namespace === undefined)
          throw new StatusError(
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
            {},
          );
        const created = await this.o.objects.create(
          t,
          path.namespace ?? '',
          this.decode.object(req),
          ctx('create'),
          {
            dryRun,
            fieldValidation: this.decode.fieldValidation(req),
            ...parseFieldManager(q, req.headers['user-agent'], 'create'),
          },
        );
        return reply.code(201).send(created);
      }
      if (method === 'DELETE') return this.deleteCollection(req, t, path, q, ctx);
      throw new StatusError(
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
        {},
      );
    }

    if (t.namespaced && path.namespace === undefined)
      throw new StatusError('NotFound', 'the server could not find the requested resource', {});
    const ns = path.namespace ?? '';
    switch (method) {
      case 'GET': {
        const obj = await this.o.objects.get(t, ns, path.name);
        const tv = tableVersion(req.headers.accept);
        if (tv)
          return toTable(t, [obj], tv, parseIncludeObject(q.includeObject), {
            resourceVersion: obj.metadata.resourceVersion,
          });
        return obj;
      }
      case 'PUT':
        return this.o.objects.update(t, ns, path.name, this.decode.object(req), ctx('update'), {
          dryRun,
          fieldValidation: this.decode.fieldValidation(req),
          ...parseFieldManager(q, req.headers['user-agent'], 'update'),
        });
      case 'PATCH': {
        const [type, patch] = this.decode.patch(req);
        const fieldValidation = this.decode.fieldValidation(req);
        if (type === 'apply') {
          const options = {
            dryRun,
            fieldValidation,
            ...parseFieldManager(q, req.headers['user-agent'], 'apply'),
          };
          const applied = await this.o.objects.apply(t, ns, path.name, patch, ctx('patch'), options);
          return reply.code(applied.created ? 201 : 200).send(applied.object);
        }
        const options = {
          dryRun,
          fieldValidation,
          ...parseFieldManager(q, req.headers['user-agent'], 'patch'),
        };
        return this.o.objects.patch(t, ns, path.name, type, patch, ctx('patch'), options);
      }
      case 'DELETE': {
        const result = await this.o.objects.delete(t, ns, path.name, ctx('delete'), {
          ...this.decode.deleteOptions(req),
          dryRun,
        });
        return reply.code(200).send(result.object);
      }
      default:
        throw new StatusError(
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
          {},
        );
    }
  }

  private async subresource(
    req: AuthedRequest,
    reply: FastifyReply,
    t: ResourceType,
    path: ResourcePath,
    ctx: (verb: string) => RequestContext,
    dryRun: boolean,
  ): Promise<unknown> {
    const sub = path.subresource as string;
    const ns = path.namespace ?? '';
    const q = req.query as Query;
    const ua = req.headers['user-agent'];
    const name = path.name as string;
    const notFound = () =>
      new StatusError('NotFound', 'the server could not find the requested resource', {});
    if (!servesSubresource(t, sub)) throw notFound();
    // For the subresources that serve the object itself but let only their part of it change
    // (read in those cases alone).
    const part: PartSubresource = sub === 'ephemeralcontainers' ? sub : 'status';
    switch (`${sub} ${req.method}`) {
      case 'status GET':
      case 'ephemeralcontainers GET':
        return this.o.objects.get(t, ns, name);
      case 'status PUT':
      case 'ephemeralcontainers PUT':
        return this.o.objects.update(t, ns, name, this.decode.object(req), ctx('update'), {
          dryRun,
          subresource: part,
          fieldValidation: this.decode.fieldValidation(req),
          ...parseFieldManager(q, ua, 'update'),
        });
      case 'status PATCH':
      case 'ephemeralcontainers PATCH': {
        const [type, patch] = this.decode.patch(req);
        if (type === 'apply') {
          const options = {
            dryRun,
            subresource: part,
            fieldValidation: this.decode.fieldValidation(req),
            ...parseFieldManager(q, ua, 'apply'),
          };
          return (await this.o.objects.apply(t, ns, name, patch, ctx('patch'), options)).object;
        }
        return this.o.objects.patch(t, ns, name, type, patch, ctx('patch'), {
          dryRun,
          subresource: part,
          fieldValidation: this.decode.fieldValidation(req),
          ...parseFieldManager(q, ua, 'patch'),
        });
      }
      case 'finalize PUT': {
        // finalizeREST (pkg/registry/core/namespace/storage/storage.go): an update of the
        // namespace, its resourceVersion a precondition when sent, in which spec.finalizers may
        // change and status stays; once none is left on a deleted namespace, it is removed.
        const body = this.decode.object(req);
        const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
        return this.o.objects.update(
          t,
          ns,
          name,
          // None sent is none left (defaults must not put `kubernetes` back).
          { ...(body as object), spec: { ...spec, finalizers: spec.finalizers ?? [] } },
          ctx('update'),
          { dryRun, subresource: 'finalize', ...parseFieldManager(q, ua, 'update') },
        );
      }
      case 'scale GET':
        return this.o.objects.getScale(t, ns, name);
      case 'scale PUT':
        return this.o.objects.updateScale(t, ns, name, this.decode.object(req), ctx('update'), {
          dryRun,
          fieldValidation: this.decode.fieldValidation(req),
          ...parseFieldManager(q, ua, 'update'),
        });
      case 'scale PATCH': {
        const [type, patch] = this.decode.patch(req);
        if (type === 'apply')
          throw new StatusError(
            'UnsupportedMediaType',
            'apply patches are not supported on the scale subresource',
          );
        return this.o.objects.patchScale(t, ns, name, type, patch, ctx('patch'), {
          dryRun,
          fieldValidation: this.decode.fieldValidation(req),
          ...parseFieldManager(q, ua, 'patch'),
        });
      }
      case 'binding POST':
        await this.o.objects.bind(t, ns, name, this.decode.object(req), ctx('create'));
        return reply.code(201).send(success());
      case 'log GET':
        return servePodLog(this.o.nats, this.o.objects, t, ns, name, req, reply);
      case 'token POST': {
        if (!this.o.tokenRequests) throw notFound();
        // Not stored: nothing is appended, and the token is only in this reply.
        return reply.code(201).send(await this.o.tokenRequests.create(ns, name, this.decode.object(req)));
      }
      case 'exec GET':
      case 'exec POST':
        return this.exec.serve(t, ns, name, req, reply);
      case 'attach GET':
      case 'attach POST':
        return this.exec.serve(t, ns, name, req, reply, { attach: true });
      case 'portforward GET':
      case 'portforward POST':
        return this.portForward.serve(t, ns, name, req, reply);
      case 'eviction POST': {
        const body = this.decode.object(req);
        const options =
          isObject(body) && isObject(body.deleteOptions) ? toDeleteOptions(body.deleteOptions) : {};
        await this.o.objects.delete(t, ns, name, ctx('create'), { ...options, dryRun });
        return reply.code(201).send(success());
      }
      default:
        throw new StatusError(
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
          {},
        );
    }
  }

  private async listOrWatch(
    req: FastifyRequest,
    reply: FastifyReply,
    t: ResourceType,
    path: ResourcePath,
    q: Query,
  ): Promise<unknown> {
    const watching = isWatch(path, q);
    const tv = tableVersion(req.headers.accept);
    const include = parseIncludeObject(q.includeObject);
    if (!watching) {
      const query = parseListQuery(t, q as RawQuery);
      const cached = await this.o.listCache?.list(t, path.namespace, query, q.resourceVersion);
      if (cached) return this.sendCachedList(reply, t, cached, tv, include);
      const whole = query.limit === undefined && !query.continue && query.resourceVersion === undefined;
      if (!tv && whole && !t.storage)
        return this.streamList(reply, t, (write) =>
          this.o.objects.streamList(t, path.namespace, query, write),
        );
      // A plain list passes the stored JSON through, never parsed; Tables need the objects.
      const list = await this.o.objects.list(t, path.namespace, { ...query, raw: !tv });
      const metadata = {
        resourceVersion: String(list.resourceVersion),
        ...(list.continue ? { continue: list.continue } : {}),
      };
      if (tv) return toTable(t, list.items, tv, include, metadata);
      if (list.rawItems) {
        const envelope = JSON.stringify({ kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata });
        return reply
          .header('content-type', 'application/json')
          .send(`${envelope.slice(0, -1)},"items":[${list.rawItems.join(',')}]}`);
      }
      return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata, items: list.items };
    }
    const rv = parseResourceVersion(q.resourceVersion);
    const labelSelector = q.labelSelector ? parseLabelSelector(q.labelSelector) : undefined;
    const fieldSelector = parseKindFieldSelector(t, q.fieldSelector);
    let after = rv ?? 0;
    let initial: Awaited<ReturnType<ObjectService['list']>>['items'] = [];
    if (rv === undefined || rv === 0) {
      // "Get state and start at most recent": the current objects as ADDED, then every change.
      const list = await this.o.objects.list(t, path.namespace, { labelSelector, fieldSelector });
      initial = list.items;
      after = list.resourceVersion;
    } else {
      const head = (await this.o.store.head()).seq;
      if (rv > head) throw tooLargeResourceVersion(rv, head);
    }
    // Selectors an object can move in and out of need the matching set as of `after`.
    const movable =
      labelSelector !== undefined ||
      (fieldSelector?.requirements ?? []).some((r) => !IDENTITY_FIELDS.has(r.field));
    let matching: Set<string> | undefined;
    if (movable) {
      const atStart =
        rv === undefined || rv === 0
          ? initial
          : (
              await this.o.objects.list(t, path.namespace, {
                labelSelector,
                fieldSelector,
                resourceVersion: after,
              })
            ).items;
      matching = new Set(atStart.map(objectKeyOf));
    }
    const timeoutSeconds = parseTimeoutSeconds(q.timeoutSeconds, 2 * this.o.watchTimeoutMs);
    reply.hijack();
    const ended = this.o.metrics.watchStarted({
      group: path.group,
      version: path.version,
      resource: path.resource,
      scope: path.namespace !== undefined ? 'namespace' : 'cluster',
    });
    try {
      await streamWatch(reply.raw, this.o.hub, {
        type: t,
        namespace: path.namespace,
        after,
        initial,
        labelSelector,
        fieldSelector,
        bookmarks: q.allowWatchBookmarks === 'true',
        timeoutMs: timeoutSeconds ? timeoutSeconds * 1000 : this.o.watchTimeoutMs * (1 + Math.random()),
        bookmarkIntervalMs: this.o.bookmarkIntervalMs,
        table: tv ? { version: tv, include } : undefined,
        matching,
        onDelivery: (seconds) => this.o.metrics.watchDelivered(seconds),
      });
    } finally {
      ended();
    }
    return reply;
  }

  /**
   * A list from the cache: a Table of its objects, or their JSON text (taken now, so later
   * changes do not reach it) in the same shape as a list read from Postgres: a page whole, a
   * whole list streamed.
   */
  private sendCachedList(
    reply: FastifyReply,
    t: ResourceType,
    list: CachedList,
    tv: ReturnType<typeof tableVersion>,
    include: ReturnType<typeof parseIncludeObject>,
  ): unknown {
    const metadata = {
      resourceVersion: String(list.resourceVersion),
      ...(list.continue ? { continue: list.continue } : {}),
    };
    if (tv)
      return toTable(
        t,
        list.items.map((e) => toServed(t, e.object)),
        tv,
        include,
        metadata,
      );
    if (list.continue) {
      // A page: small, and shaped as a page read from Postgres.
      const envelope = JSON.stringify({ kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata });
      return reply
        .header('content-type', 'application/json')
        .send(`${envelope.slice(0, -1)},"items":[${list.items.map((e) => e.json).join(',')}]}`);
    }
    const json = list.items.map((e) => e.json);
    return this.streamList(reply, t, async (write) => {
      // Pages, as the Postgres cursor gives them: memory per list stays a page, not the whole body.
      for (let i = 0; i < json.length; i += 500) await write(json.slice(i, i + 500));
      return list.resourceVersion;
    });
  }

  /**
   * A whole, current, plain list streamed as `source` hands over its pages (Postgres' cursor, or
   * the cache): items first, then the metadata (its resourceVersion is the snapshot's, known at
   * the start but written last so the body can begin at once; JSON clients do not care about
   * key order). `source` resolves to that resourceVersion.
   */
  private async streamList(
    reply: FastifyReply,
    t: ResourceType,
    source: (write: (jsonItems: string[]) => Promise<void>) => Promise<number>,
  ): Promise<FastifyReply> {
    const res = reply.raw;
    // Nothing is sent before the snapshot is open: a refusal (a resourceVersion too new) still
    // gets its Status; after the first bytes, a failure can only break the body.
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      reply.hijack();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
      res.write(
        `{"kind":${JSON.stringify(`${t.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOf(t))},"items":[`,
      );
    };
    let first = true;
    try {
      const rv = await source(async (items) => {
        // A client that went away stops the cursor (and its transaction).
        if (responseGone(res)) throw new Error('the client closed the list');
        if (items.length === 0) return;
        start();
        const chunk = `${first ? '' : ','}${items.join(',')}`;
        first = false;
        if (!res.write(chunk)) await drained(res);
      });
      start();
      res.end(`],"metadata":{"resourceVersion":"${String(rv)}"}}`);
      // A hijacked reply skips the onResponse hook: count the streamed list here.
      const labels = (reply.request as AuthedRequest)[LATENCY];
      if (labels) this.o.metrics.requestDone(labels, reply.elapsedTime / 1000, 200);
    } catch (e) {
      if (!started) throw e;
      if (!responseGone(res)) reply.log.error({ err: e }, `streaming the ${t.plural} list failed`);
      // With the error: HTTP/2 then resets the stream as failed, not as a clean end.
      res.destroy(e as Error);
    }
    return reply;
  }

  private async deleteCollection(
    req: AuthedRequest,
    t: ResourceType,
    path: ResourcePath,
    q: Query,
    ctx: (verb: string) => RequestContext,
  ) {
    const list = await this.o.objects.list(
      t,
      path.namespace,
      parseListQuery(t, { ...(q as RawQuery), limit: undefined, continue: undefined }),
    );
    const options = { ...this.decode.deleteOptions(req), dryRun: parseDryRun(q.dryRun) };
    const items = [];
    for (const o of list.items) {
      try {
        items.push(
          (
            await this.o.objects.delete(
              t,
              o.metadata.namespace ?? '',
              o.metadata.name as string,
              ctx('deletecollection'),
              options,
            )
          ).object,
        );
      } catch (e) {
        if (!(e instanceof StatusError && e.reason === 'NotFound')) throw e;
      }
    }
    return {
      kind: `${t.kind}List`,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String((await this.o.store.head()).seq) },
      items,
    };
  }

  private fail(reply: FastifyReply, error: unknown): FastifyReply {
    const status =
      error instanceof StatusError ? error : StatusError.internal((error as Error)?.message ?? String(error));
    if (!(error instanceof StatusError) && status.code === 500)
      reply.log.error({ err: error }, 'request failed');
    // As upstream's ErrorNegotiated: a Status that says when to retry says it in the header too.
    if (status.details?.retryAfterSeconds)
      reply.header('retry-after', String(status.details.retryAfterSeconds));
    return reply.code(status.code).header('content-type', 'application/json').send(status.toStatus());
  }
}

/** The verb and resource a request's latency counts under (upstream's verbs); none for watches. */
/** Upstream's request metric labels (k8s.io/apiserver/pkg/endpoints/metrics); watches are not latency samples. */
function latencyLabels(path: ResourcePath, method: string, q: Query): RequestLabels | undefined {
  if (isWatch(path, q)) return undefined;
  const collection = !path.name;
  const verb =
    collection && method === 'GET' ? 'LIST' : collection && method === 'DELETE' ? 'DELETECOLLECTION' : method;
  return {
    verb,
    group: path.group,
    version: path.version,
    resource: path.resource,
    subresource: path.subresource ?? '',
    scope: !collection ? 'resource' : path.namespace !== undefined ? 'namespace' : 'cluster',
    component: 'apiserver',
    // Only the one value upstream accepts, so a caller cannot mint series.
    dry_run: q.dryRun === 'All' ? 'All' : '',
  };
}

function servesSubresource(t: ResourceType, sub: string): boolean {
  return (
    t.subresources.includes(sub as never) ||
    (t.plural === 'namespaces' && t.group === '' && sub === 'finalize')
  );
}

function authorizationHeaders(req: FastifyRequest): number {
  const raw = req.raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'authorization') n++;
  return n;
}

function success() {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
