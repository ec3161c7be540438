import { type ResourceType } from '@app/api';
import { openLogStream } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';
import { type FastifyReply, type FastifyRequest } from 'fastify';

import { drained } from '@app/bus';
import { podStreamLocation, withNodeRefusals } from '../http/pod-streams.js';
import { responseGone, startStreamedResponse } from '../http/serving.js';
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
  const { container, nodeName } = podStreamLocation(pod, q.container);
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const stream = await withNodeRefusals('log', name, () =>
    openLogStream(nats, nodeName, {
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
    }),
  );
  reply.hijack();
  const res = reply.raw;
  startStreamedResponse(res, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  // The client leaving (Ctrl-C on `logs -f`) cancels the stream on the node.
  res.once('close', () => stream.cancel());
  try {
    for await (const chunk of stream) {
      if (!res.write(chunk)) await drained(res);
    }
  } catch {
    // The log broke off on the node: end the body; kubectl prints what came.
  } finally {
    if (!responseGone(res)) res.end();
  }
  return reply;
}
