import { type ResourceType, StatusError } from '@app/api';
import { LogOpenError, type LogStream, openLogStream } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';
import { type FastifyReply, type FastifyRequest } from 'fastify';

import { drained } from '../http/drained.js';
import { type ObjectService } from '../objects/object-service.js';

type Query = Record<string, string | undefined>;

/** `pods/log`: proxied over NATS from the node agent running the pod, streamed for `follow`. */
export async function servePodLog(
  nats: NatsConnection,
  objects: ObjectService,
  t: ResourceType,
  ns: string,
  name: string,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const q = req.query as Query;
  const pod = await objects.get(t, ns, name);
  const spec = (pod.spec ?? {}) as {
    nodeName?: string;
    containers?: { name: string }[];
    initContainers?: { name: string }[];
  };
  const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name);
  let container = q.container;
  if (!container) {
    if ((spec.containers ?? []).length !== 1)
      throw StatusError.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`,
      );
    container = (spec.containers ?? [])[0].name;
  }
  if (!names.includes(container))
    throw StatusError.badRequest(`container ${container} is not valid for pod ${name}`);
  if (!spec.nodeName) throw StatusError.badRequest(`pod ${name} does not have a host assigned`);
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  let stream: LogStream;
  try {
    stream = await openLogStream(nats, spec.nodeName, {
      namespace: ns,
      pod: name,
      uid: pod.metadata.uid,
      container,
      follow: q.follow === 'true',
      tailLines: int(q.tailLines),
      sinceSeconds: int(q.sinceSeconds),
      sinceTime: q.sinceTime,
      timestamps: q.timestamps === 'true',
      previous: q.previous === 'true',
      limitBytes: int(q.limitBytes),
    });
  } catch (e) {
    if (e instanceof LogOpenError) throw agentRefusal(e, name);
    throw e;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();
  // The client leaving (Ctrl-C on `logs -f`) cancels the stream on the node.
  res.once('close', () => stream.cancel());
  try {
    for await (const chunk of stream) {
      if (!res.write(chunk)) await drained(res);
    }
  } catch {
    // The log broke off on the node: end the body; kubectl prints what came.
  } finally {
    if (!res.destroyed) res.end();
  }
  return reply;
}

/**
 * The agent's refusal as the API server words a kubelet's (apiserver/pkg/registry/generic/rest/
 * response_checker.go GenericHttpResponseChecker): 400s and 500s keep the kubelet's message, a
 * 404 becomes the generic NotFound; an agent that did not answer is unavailable.
 */
function agentRefusal(e: LogOpenError, pod: string): StatusError {
  switch (e.code) {
    case 400:
      return StatusError.badRequest(e.message);
    case 404:
      return new StatusError(
        'NotFound',
        `the server could not find the requested resource ( pods/log ${pod})`,
        {
          kind: 'pods/log',
          name: pod,
        },
      );
    case 500:
      return StatusError.internal(e.message);
    default:
      return new StatusError('ServiceUnavailable', e.message, undefined, e.code);
  }
}
